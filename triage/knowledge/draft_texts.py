"""The words of a draft reply in English, German, French and Spanish, written by us for Triage.

Kept apart from the composer (`triage.knowledge.drafts`) so that a language is added by adding one entry to
each table below; `tests/triage/test_drafts.py` checks that every language has every key.

Slots: {order} " LH-104233" or "", {for_order} " for order LH-104233" (in the language) or "", {product}
" with your Ember heater"-style phrase or "", {quoting_order} " quoting order LH-104233" or "".
German acknowledgements start in lower case: in a German letter the sentence after "Guten Tag X," does.
"""

from __future__ import annotations

# What the customer wrote about, per intent; "" is any other intent.
ACK: dict[str, dict[str, str]] = {
    "en": {
        "order_status": "Thank you for asking about the status of your order{order}.",
        "delivery_problem": "Thank you for letting us know that something went wrong with the delivery of your "
                            "order{order}.",
        "shipping_info": "Thank you for your question about shipping.",
        "cancel_order": "Thank you for your message about cancelling your order{order}.",
        "return_exchange": "Thank you for getting in touch about returning or exchanging an item{for_order}.",
        "refund_request": "Thank you for asking about your refund{for_order}.",
        "billing_issue": "Thank you for telling us about the charge that does not look right{for_order}.",
        "payment_problem": "Thank you for your message about the payment{for_order}.",
        "invoice_request": "Thank you for asking for an invoice{for_order}.",
        "pricing_plans": "Thank you for your question about our plans and prices.",
        "cancel_subscription": "Thank you for your message about cancelling your membership.",
        "account_access": "Thank you for letting us know that you cannot get into your account.",
        "account_update": "Thank you for asking us to update your account details.",
        "account_deletion": "Thank you for your request about closing your account and the data we hold.",
        "technical_problem": "Thank you for reporting the problem{product}.",
        "product_question": "Thank you for your question{product}.",
        "warranty_repair": "Thank you for getting in touch about a warranty repair{product}.",
        "security_fraud": "Thank you for alerting us to activity on your account that you do not recognise.",
        "complaint": "Thank you for taking the time to tell us about your experience.",
        "feedback": "Thank you very much for your feedback.",
        "": "Thank you for your message{for_order}.",
    },
    "de": {
        "order_status": "vielen Dank für Ihre Frage zum Stand Ihrer Bestellung{order}.",
        "delivery_problem": "vielen Dank für Ihren Hinweis, dass bei der Lieferung Ihrer Bestellung{order} etwas "
                            "schiefgegangen ist.",
        "shipping_info": "vielen Dank für Ihre Frage zum Versand.",
        "cancel_order": "vielen Dank für Ihre Nachricht zur Stornierung Ihrer Bestellung{order}.",
        "return_exchange": "vielen Dank für Ihre Nachricht zur Rücksendung oder zum Umtausch{for_order}.",
        "refund_request": "vielen Dank für Ihre Frage zu Ihrer Erstattung{for_order}.",
        "billing_issue": "vielen Dank für Ihren Hinweis auf die Abbuchung, die nicht stimmt{for_order}.",
        "payment_problem": "vielen Dank für Ihre Nachricht zur Zahlung{for_order}.",
        "invoice_request": "vielen Dank für Ihre Anfrage nach einer Rechnung{for_order}.",
        "pricing_plans": "vielen Dank für Ihre Frage zu unseren Tarifen und Preisen.",
        "cancel_subscription": "vielen Dank für Ihre Nachricht zur Kündigung Ihrer Mitgliedschaft.",
        "account_access": "vielen Dank für Ihren Hinweis, dass Sie nicht in Ihr Kundenkonto kommen.",
        "account_update": "vielen Dank für Ihre Bitte, Ihre Kontodaten zu ändern.",
        "account_deletion": "vielen Dank für Ihre Anfrage zur Löschung Ihres Kontos und Ihrer Daten.",
        "technical_problem": "vielen Dank, dass Sie uns das Problem{product} melden.",
        "product_question": "vielen Dank für Ihre Frage{product}.",
        "warranty_repair": "vielen Dank für Ihre Nachricht zu einer Garantiereparatur{product}.",
        "security_fraud": "vielen Dank für Ihren Hinweis auf Vorgänge in Ihrem Konto, die Sie nicht kennen.",
        "complaint": "vielen Dank, dass Sie sich die Zeit nehmen, uns von Ihren Erfahrungen zu berichten.",
        "feedback": "vielen Dank für Ihre Rückmeldung.",
        "": "vielen Dank für Ihre Nachricht{for_order}.",
    },
    "fr": {
        "order_status": "Merci de votre question sur le suivi de votre commande{order}.",
        "delivery_problem": "Merci de nous avoir signalé un problème avec la livraison de votre commande{order}.",
        "shipping_info": "Merci de votre question sur la livraison.",
        "cancel_order": "Merci de votre message au sujet de l'annulation de votre commande{order}.",
        "return_exchange": "Merci de nous avoir contactés au sujet d'un retour ou d'un échange{for_order}.",
        "refund_request": "Merci de votre question sur votre remboursement{for_order}.",
        "billing_issue": "Merci de nous avoir signalé ce prélèvement qui ne semble pas correct{for_order}.",
        "payment_problem": "Merci de votre message au sujet du paiement{for_order}.",
        "invoice_request": "Merci de votre demande de facture{for_order}.",
        "pricing_plans": "Merci de votre question sur nos formules et nos tarifs.",
        "cancel_subscription": "Merci de votre message au sujet de la résiliation de votre abonnement.",
        "account_access": "Merci de nous avoir signalé que vous ne parvenez plus à accéder à votre compte.",
        "account_update": "Merci de votre demande de mise à jour de vos coordonnées.",
        "account_deletion": "Merci de votre demande de suppression de votre compte et de vos données.",
        "technical_problem": "Merci de nous avoir signalé ce problème{product}.",
        "product_question": "Merci de votre question{product}.",
        "warranty_repair": "Merci de nous avoir contactés au sujet d'une réparation sous garantie{product}.",
        "security_fraud": "Merci de nous avoir signalé une activité que vous ne reconnaissez pas sur votre compte.",
        "complaint": "Merci d'avoir pris le temps de nous faire part de votre expérience.",
        "feedback": "Merci beaucoup pour votre retour.",
        "": "Merci de votre message{for_order}.",
    },
    "es": {
        "order_status": "Gracias por consultarnos el estado de su pedido{order}.",
        "delivery_problem": "Gracias por avisarnos de que algo ha fallado en la entrega de su pedido{order}.",
        "shipping_info": "Gracias por su consulta sobre los envíos.",
        "cancel_order": "Gracias por su mensaje sobre la cancelación de su pedido{order}.",
        "return_exchange": "Gracias por contactarnos para devolver o cambiar un artículo{for_order}.",
        "refund_request": "Gracias por su consulta sobre su reembolso{for_order}.",
        "billing_issue": "Gracias por avisarnos del cargo que no le parece correcto{for_order}.",
        "payment_problem": "Gracias por su mensaje sobre el pago{for_order}.",
        "invoice_request": "Gracias por solicitarnos una factura{for_order}.",
        "pricing_plans": "Gracias por su consulta sobre nuestros planes y precios.",
        "cancel_subscription": "Gracias por su mensaje sobre la baja de su suscripción.",
        "account_access": "Gracias por avisarnos de que no puede acceder a su cuenta.",
        "account_update": "Gracias por pedirnos que actualicemos los datos de su cuenta.",
        "account_deletion": "Gracias por su solicitud de eliminar su cuenta y sus datos.",
        "technical_problem": "Gracias por informarnos del problema{product}.",
        "product_question": "Gracias por su consulta{product}.",
        "warranty_repair": "Gracias por contactarnos sobre una reparación en garantía{product}.",
        "security_fraud": "Gracias por avisarnos de una actividad en su cuenta que no reconoce.",
        "complaint": "Gracias por dedicar su tiempo a contarnos su experiencia.",
        "feedback": "Muchas gracias por su opinión.",
        "": "Gracias por su mensaje{for_order}.",
    },
}

GROUPS = {
    "delivery": ("order_status", "delivery_problem", "shipping_info"),
    "order_change": ("cancel_order", "return_exchange"),
    "money": ("refund_request", "billing_issue", "payment_problem", "invoice_request"),
    "plan": ("pricing_plans", "cancel_subscription"),
    "account": ("account_access", "account_update", "account_deletion"),
    "security": ("security_fraud",),
    "device": ("technical_problem", "product_question", "warranty_repair"),
    "complaint": ("complaint",),
    "feedback": ("feedback",),
}
GROUP_OF = {intent: group for group, intents in GROUPS.items() for intent in intents}

# The concrete next step of an email, per group of intents; "hazard" replaces it when a hazard is reported.
NEXT: dict[str, dict[str, str]] = {
    "en": {
        "delivery": "If the parcel has not arrived or anything still looks wrong, reply to this email{quoting_order} "
                    "and we will take it up with the carrier straight away.",
        "order_change": "Reply to this email{quoting_order} if you would like us to start this for you, and we "
                        "will confirm each step by email.",
        "money": "If anything is still unclear, reply to this email{quoting_order} and we will check the payment "
                 "records for you.",
        "plan": "Reply to this email if you would like us to make the change for you, and we will confirm it in "
                "writing.",
        "account": "If this does not solve it, reply from the email address on your account and we will help you "
                   "further.",
        "security": "Please do not share codes or passwords with anyone, and reply straight away if you notice "
                    "anything else you do not recognise.",
        "device": "If the problem continues after these steps, reply with a short description or a photo and we "
                  "will arrange the next step, including a repair if needed.",
        "complaint": "I have shared your message with our team lead, who will follow up with you personally.",
        "feedback": "I have shared your message with the team.",
        "hazard": "Once the appliance is unplugged, reply with a photo of it and of its rating label{quoting_order}, "
                  "and we will arrange its collection and a replacement or a refund.",
        "": "Reply to this email if you have any further questions.",
    },
    "de": {
        "delivery": "Falls das Paket nicht ankommt oder etwas nicht stimmt, antworten Sie einfach auf diese "
                    "E-Mail{quoting_order}, und wir klären es sofort mit dem Zusteller.",
        "order_change": "Antworten Sie auf diese E-Mail{quoting_order}, wenn wir das für Sie in die Wege leiten "
                        "sollen; jeden Schritt bestätigen wir Ihnen per E-Mail.",
        "money": "Wenn noch etwas unklar ist, antworten Sie auf diese E-Mail{quoting_order}, und wir prüfen die "
                 "Zahlungsdaten für Sie.",
        "plan": "Antworten Sie auf diese E-Mail, wenn wir die Änderung für Sie vornehmen sollen; wir bestätigen "
                "sie Ihnen schriftlich.",
        "account": "Falls das nicht hilft, antworten Sie bitte von der E-Mail-Adresse Ihres Kontos, und wir "
                   "helfen Ihnen weiter.",
        "security": "Bitte geben Sie Codes und Passwörter an niemanden weiter und melden Sie sich sofort, wenn "
                    "Ihnen noch etwas Unbekanntes auffällt.",
        "device": "Wenn das Problem danach weiter besteht, antworten Sie mit einer kurzen Beschreibung oder einem "
                  "Foto, und wir veranlassen den nächsten Schritt, bei Bedarf auch eine Reparatur.",
        "complaint": "Ich habe Ihre Nachricht an unsere Teamleitung weitergegeben, die sich persönlich bei Ihnen "
                     "meldet.",
        "feedback": "Ich habe Ihre Nachricht an das Team weitergegeben.",
        "hazard": "Sobald das Gerät vom Strom getrennt ist, schicken Sie uns bitte ein Foto des Geräts und seines "
                  "Typenschilds{quoting_order}; wir holen es dann ab und sorgen für Ersatz oder eine Erstattung.",
        "": "Antworten Sie gern auf diese E-Mail, wenn Sie weitere Fragen haben.",
    },
    "fr": {
        "delivery": "Si le colis n'arrive pas ou si quelque chose ne va toujours pas, répondez simplement à cet "
                    "e-mail{quoting_order} et nous contacterons le transporteur sans attendre.",
        "order_change": "Répondez à cet e-mail{quoting_order} si vous souhaitez que nous nous en occupions ; nous "
                        "vous confirmerons chaque étape par e-mail.",
        "money": "Si quelque chose n'est pas clair, répondez à cet e-mail{quoting_order} et nous vérifierons les "
                 "paiements pour vous.",
        "plan": "Répondez à cet e-mail si vous souhaitez que nous fassions le changement pour vous ; nous vous le "
                "confirmerons par écrit.",
        "account": "Si cela ne suffit pas, répondez depuis l'adresse e-mail de votre compte et nous vous aiderons.",
        "security": "Ne communiquez jamais vos codes ni vos mots de passe, et prévenez-nous tout de suite si vous "
                    "remarquez autre chose d'inhabituel.",
        "device": "Si le problème persiste après ces étapes, répondez avec une courte description ou une photo et "
                  "nous organiserons la suite, y compris une réparation si nécessaire.",
        "complaint": "J'ai transmis votre message à notre responsable d'équipe, qui reviendra vers vous "
                     "personnellement.",
        "feedback": "J'ai transmis votre message à l'équipe.",
        "hazard": "Une fois l'appareil débranché, envoyez-nous une photo de l'appareil et de sa plaque "
                  "signalétique{quoting_order} : nous organiserons son enlèvement et un remplacement ou un "
                  "remboursement.",
        "": "N'hésitez pas à répondre à cet e-mail si vous avez d'autres questions.",
    },
    "es": {
        "delivery": "Si el paquete no llega o algo sigue sin estar bien, responda a este correo{quoting_order} y lo "
                    "resolveremos con la empresa de transporte de inmediato.",
        "order_change": "Responda a este correo{quoting_order} si quiere que nos encarguemos nosotros; le "
                        "confirmaremos cada paso por correo.",
        "money": "Si algo no le queda claro, responda a este correo{quoting_order} y revisaremos los pagos por "
                 "usted.",
        "plan": "Responda a este correo si quiere que hagamos el cambio por usted; se lo confirmaremos por escrito.",
        "account": "Si así no se soluciona, responda desde la dirección de correo de su cuenta y le seguiremos "
                   "ayudando.",
        "security": "No comparta nunca códigos ni contraseñas y avísenos enseguida si nota cualquier otra cosa "
                    "que no reconozca.",
        "device": "Si el problema continúa después de estos pasos, responda con una breve descripción o una foto y "
                  "organizaremos el siguiente paso, incluida una reparación si hace falta.",
        "complaint": "He trasladado su mensaje a la persona responsable de nuestro equipo, que se pondrá en "
                     "contacto con usted personalmente.",
        "feedback": "He trasladado su mensaje al equipo.",
        "hazard": "Cuando el aparato esté desenchufado, envíenos una foto del aparato y de su placa de "
                  "características{quoting_order} y organizaremos su recogida y una sustitución o un reembolso.",
        "": "Responda a este correo si tiene cualquier otra pregunta.",
    },
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},", "greeting_anon": "Hello,",
        "chat_greeting": "Hi {name}!", "chat_greeting_anon": "Hi!",
        "sorry": "I am sorry for the trouble this has caused, and I understand how frustrating it is.",
        "urgent": "I understand this is urgent, so I have made it a priority.",
        "sorry_urgent": "I am sorry for the trouble this has caused, and I understand it is urgent, so I have made "
                        "it a priority.",
        "chat_sorry": "I'm sorry about the trouble.",
        "safety": "For your safety, please stop using the appliance now: switch it off and unplug it if you can do "
                  "so safely, keep it away from anything that can catch fire and do not use it again. If there are "
                  "flames or heavy smoke, leave the room and call the emergency services.",
        "callback": "You asked us to call you: I will call you back{at_number} as soon as I can.",
        "callback_no_number": "You asked us to call you: please reply with the best number and time to reach you, "
                              "and I will call you back.",
        "deadline": "I have noted that you need this {deadline}, and I will confirm today whether we can make it.",
        "quantity": "I have noted the quantity you asked for ({quantity}); for an order of this size I will send "
                    "you a quote with volume pricing and a firm delivery date.",
        "at_number": " on {number}",
        "more": "You can read more in our help article \"{title}\".",
        "nothing": "I am looking into this for you and will come back to you with the details shortly.",
        "holding": "I am looking into your message and will get back to you with a full answer shortly.",
        "out_of_scope": "This address is the {company} customer support team, so it looks as if your message "
                        "reached us by mistake. If you do need help from us, just reply and we will gladly help.",
        "chat_next": "Is there anything else I can help you with?",
        "chat_holding": "Let me look into this for you, I'll be right back.",
        "chat_out_of_scope": "This is the {company} support chat. How can I help you today?",
        "order": " {number}", "for_order": " for order {number}", "quoting_order": " quoting order {number}",
        "product": " with your {product}", "product_question": " about the {product}",
        "closing": "Kind regards,", "team": "{company} support",
    },
    "de": {
        "greeting": "Guten Tag {name},", "greeting_anon": "Guten Tag,",
        "chat_greeting": "Hallo {name}!", "chat_greeting_anon": "Hallo!",
        "sorry": "Es tut mir leid, dass Ihnen das Ärger bereitet hat, und ich verstehe, wie ärgerlich das ist.",
        "urgent": "Mir ist klar, dass es eilt, deshalb habe ich Ihr Anliegen vorgezogen.",
        "sorry_urgent": "Es tut mir leid, dass Ihnen das Ärger bereitet hat; da es eilt, habe ich Ihr Anliegen "
                        "vorgezogen.",
        "chat_sorry": "Das tut mir leid.",
        "safety": "Zu Ihrer Sicherheit: Bitte benutzen Sie das Gerät nicht weiter, schalten Sie es aus und ziehen "
                  "Sie den Stecker, wenn das gefahrlos möglich ist, halten Sie es von allem Brennbaren fern und "
                  "nehmen Sie es nicht wieder in Betrieb. Bei Flammen oder starkem Rauch verlassen Sie den Raum und "
                  "rufen Sie die Feuerwehr (112).",
        "callback": "Sie haben um einen Rückruf gebeten: Ich rufe Sie{at_number} so bald wie möglich an.",
        "callback_no_number": "Sie haben um einen Rückruf gebeten: Bitte nennen Sie uns die Nummer und die Zeit, "
                              "zu der wir Sie am besten erreichen, dann rufe ich Sie an.",
        "deadline": "Ich habe notiert, dass Sie das {deadline} brauchen, und gebe Ihnen noch heute Bescheid, ob wir "
                    "das schaffen.",
        "quantity": "Die gewünschte Menge ({quantity}) habe ich notiert; für eine Bestellung dieser Größe schicke "
                    "ich Ihnen ein Angebot mit Mengenpreisen und einem verbindlichen Liefertermin.",
        "at_number": " unter {number}",
        "more": "Mehr dazu lesen Sie in unserem Hilfeartikel „{title}“.",
        "nothing": "Ich kümmere mich darum und melde mich in Kürze mit den Einzelheiten bei Ihnen.",
        "holding": "Ich sehe mir Ihre Nachricht genau an und melde mich in Kürze mit einer vollständigen Antwort.",
        "out_of_scope": "Diese Adresse gehört zum Kundenservice von {company}; Ihre Nachricht hat uns "
                        "offenbar versehentlich erreicht. Wenn Sie doch Hilfe von uns brauchen, antworten Sie "
                        "einfach, wir helfen gern.",
        "chat_next": "Kann ich sonst noch etwas für Sie tun?",
        "chat_holding": "Ich sehe mir das gleich für Sie an und melde mich sofort wieder.",
        "chat_out_of_scope": "Hier ist der Support-Chat von {company}. Wie kann ich Ihnen helfen?",
        "order": " {number}", "for_order": " zur Bestellung {number}",
        "quoting_order": " mit der Bestellnummer {number}",
        "product": " mit Ihrem Gerät {product}", "product_question": " zum Produkt {product}",
        "closing": "Mit freundlichen Grüßen", "team": "{company} Kundenservice",
    },
    "fr": {
        "greeting": "Bonjour {name},", "greeting_anon": "Bonjour,",
        "chat_greeting": "Bonjour {name} !", "chat_greeting_anon": "Bonjour !",
        "sorry": "Nous sommes désolés pour ce désagrément et je comprends à quel point c'est frustrant.",
        "urgent": "Je comprends que c'est urgent, j'ai donc traité votre demande en priorité.",
        "sorry_urgent": "Nous sommes désolés pour ce désagrément ; comme c'est urgent, j'ai traité votre demande en "
                        "priorité.",
        "chat_sorry": "Désolé pour ce désagrément.",
        "safety": "Pour votre sécurité, cessez immédiatement d'utiliser l'appareil : éteignez-le et débranchez-le si "
                  "vous pouvez le faire sans danger, éloignez-le de tout ce qui peut prendre feu et ne le "
                  "réutilisez pas. En cas de flammes ou de fumée épaisse, quittez la pièce et appelez les pompiers "
                  "(18 ou 112).",
        "callback": "Vous avez demandé un rappel : je vous appelle{at_number} dès que possible.",
        "callback_no_number": "Vous avez demandé un rappel : indiquez-nous le numéro et l'horaire où vous "
                              "joindre, et je vous rappellerai.",
        "deadline": "J'ai bien noté que vous en avez besoin {deadline} ; je vous confirme dès aujourd'hui si c'est "
                    "possible.",
        "quantity": "J'ai bien noté la quantité demandée ({quantity}) ; pour une commande de cette taille, je vous "
                    "envoie un devis avec des prix dégressifs et une date de livraison ferme.",
        "at_number": " au {number}",
        "more": "Vous trouverez plus de détails dans notre article d'aide « {title} ».",
        "nothing": "Je m'en occupe et je reviens vers vous très vite avec les détails.",
        "holding": "J'examine votre message et je reviens vers vous très vite avec une réponse complète.",
        "out_of_scope": "Cette adresse est celle du service client de {company} : votre message nous est sans doute "
                        "parvenu par erreur. Si vous avez besoin de notre aide, répondez simplement et nous vous "
                        "aiderons volontiers.",
        "chat_next": "Puis-je vous aider pour autre chose ?",
        "chat_holding": "Je regarde cela pour vous et je reviens tout de suite.",
        "chat_out_of_scope": "Vous êtes sur le chat d'assistance de {company}. Comment puis-je vous aider ?",
        "order": " {number}", "for_order": " (commande {number})", "quoting_order": " en indiquant la commande "
                                                                                   "{number}",
        "product": " avec votre {product}", "product_question": " sur le produit {product}",
        "closing": "Cordialement,", "team": "Le service client {company}",
    },
    "es": {
        "greeting": "Hola, {name}:", "greeting_anon": "Hola:",
        "chat_greeting": "¡Hola, {name}!", "chat_greeting_anon": "¡Hola!",
        "sorry": "Siento mucho las molestias y entiendo lo frustrante que es.",
        "urgent": "Entiendo que es urgente, así que le he dado prioridad.",
        "sorry_urgent": "Siento mucho las molestias; como es urgente, le he dado prioridad.",
        "chat_sorry": "Siento mucho las molestias.",
        "safety": "Por su seguridad, deje de usar el aparato ahora mismo: apáguelo y desenchúfelo si puede hacerlo "
                  "sin peligro, manténgalo lejos de cualquier cosa que pueda arder y no vuelva a utilizarlo. Si hay "
                  "llamas o mucho humo, salga de la habitación y llame a los servicios de emergencia (112).",
        "callback": "Nos ha pedido que le llamemos: le llamaré{at_number} lo antes posible.",
        "callback_no_number": "Nos ha pedido que le llamemos: indíquenos el número y la hora a la que podemos "
                              "localizarle y le llamaré.",
        "deadline": "He tomado nota de que lo necesita {deadline} y hoy mismo le confirmo si podemos cumplirlo.",
        "quantity": "He tomado nota de la cantidad que indica ({quantity}); para un pedido de este tamaño le "
                    "enviaré un presupuesto con precios por volumen y una fecha de entrega en firme.",
        "at_number": " al {number}",
        "more": "Encontrará más información en nuestro artículo de ayuda «{title}».",
        "nothing": "Me estoy ocupando de ello y le escribiré en breve con los detalles.",
        "holding": "Estoy revisando su mensaje y le responderé en breve con una respuesta completa.",
        "out_of_scope": "Esta dirección es la del servicio de atención al cliente de {company}, así que parece que "
                        "su mensaje nos ha llegado por error. Si necesita nuestra ayuda, responda sin más y le "
                        "atenderemos con mucho gusto.",
        "chat_next": "¿Puedo ayudarle en algo más?",
        "chat_holding": "Déjeme revisarlo, enseguida vuelvo con usted.",
        "chat_out_of_scope": "Este es el chat de atención al cliente de {company}. ¿En qué puedo ayudarle?",
        "order": " {number}", "for_order": " (pedido {number})", "quoting_order": " indicando el pedido {number}",
        "product": " con su {product}", "product_question": " sobre el producto {product}",
        "closing": "Un saludo,", "team": "Atención al cliente de {company}",
    },
}

# Business letters in these languages greet with the full name; English mail and every chat use the first name.
FULL_NAME_GREETING = frozenset({"de", "fr"})
