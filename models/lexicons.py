"""Word lists behind the explicit signals, per language: English, German, French and Spanish.

Each cue maps a language to regular-expression fragments written in *folded* form, the form
`models.signals.fold` gives a text: lower case, accents stripped ("kündigung" -> "kundigung",
"débité" -> "debite", "niños" -> "ninos"), "ß" as "ss" and curly apostrophes as "'". German is also
typed without umlauts as ae/oe/ue, so those spellings are written out where they are common.
Fragments match whole words (`models.signals.words`); `\\w*` extends a stem. The lists describe how
people report danger, complain and escalate, not what a particular company sells.
"""

from __future__ import annotations

Lexicon = dict[str, tuple[str, ...]]

# Time words that make a deadline when something is needed by then (see DEADLINE_TIMED).
_DAYS = ("monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
         "montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
         "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
         "lunes|martes|miercoles|jueves|viernes|sabado|domingo")
_SOON = ("today|tonight|tomorrow|this (?:morning|afternoon|evening|weekend)|the weekend|"
         "(?:the )?end of (?:the |this )?(?:day|week)|eod|noon|midnight|"
         "heute(?: abend| nachmittag)?|morgen(?: fruh| frueh)?|ubermorgen|uebermorgen|(?:diesem |dem )?wochenende|"
         "(?:zum )?tagesende|mittag|"
         "aujourd'?\\s?hui|ce soir|demain|apres-demain|ce week-?end|(?:la )?fin de (?:la )?(?:journee|semaine)|"
         "midi|minuit|"
         "hoy|esta noche|manana|pasado manana|(?:este|el) fin de semana|(?:el )?mediodia|(?:el )?final del dia")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|"
           "januar|februar|marz|maerz|mai|juni|juli|oktober|dezember|"
           "janvier|fevrier|mars|avril|juin|juillet|aout|septembre|octobre|novembre|decembre|"
           "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre")
# A calendar date or the end of a week: what a customer names when something is due ("by 14 December").
DATE = (f"(?:(?:(?:{_DAYS}),? )?(?:(?:the|le|el|den|am|dem) )?\\d{{1,2}}(?:st|nd|rd|th|\\.)? (?:of |de )?(?:{_MONTHS})"
        f"|(?:{_MONTHS}) \\d{{1,2}}(?:st|nd|rd|th)?"
        "|(?:(?:the )?end of (?:the |this |next )?week|ende (?:der|dieser|n(?:a|ae)chster) woche"
        "|(?:la )?fin de (?:la |cette )?semaine|(?:el )?final de (?:la|esta) semana))")
WHEN = (f"(?:(?:(?:the|am|le|el|this|next|diesen|ce|este) )?(?:{_DAYS})|{_SOON}"
        f"|(?:the|le|el|zum|den) \\d{{1,2}}(?:st|nd|rd|th|\\.)?)")

# ---------------------------------------------------------------- critical

SAFETY: Lexicon = {
    "en": ("smok(?:e|es|ed|ing|y)", "burning(?: smell)?", "burnt", "burned", "scorch\\w*", "on fire", "caught fire",
           "fire", "flames?", "spark(?:s|ed|ing)?", "(?:felt|got|had) (?:a|an) (?:\\w+ )?shock", "melt(?:ed|ing|s)",
           "overheat\\w*", "too hot to touch",
           "hot to the touch", "swollen", "bulging", "explod\\w*", "electric(?:al)? shock", "electrocut\\w*",
           "shock(?:ed)? me", "gas leak", "smells? of gas", "carbon monoxide", "injur\\w*",
           "(?:taken|went|rushed|admitted) to (?:the )?hospital", "ended up in (?:the )?hospital",
           "hospitali[sz]ed", "choking", "poison\\w*", "toxic", "contaminat\\w*", "crackl\\w*",
           "(?:socket|plug|outlet|wiring) (?:has )?(?:gone black|melted|scorched)",
           "leak\\w* (?:onto|into|near|over) (?:the |a )?(?:power )?(?:socket|plug|outlet|wiring)"),
    "de": ("(?:riecht|stinkt|roch) (?:\\w+ )?(?:verbrannt|verschmort|nach rauch|nach gas)", "rauch", "raucht",
           "qualm\\w*", "verbrannt", "verschmort", "angeschmort", "(?:ge)?knister\\w*",
           "(?:extrem|brutal|gl(?:u|ue)hend|ungew(?:o|oe)hnlich) heiss", "brandgeruch", "brandgefahr", "brandfleck\\w*",
           "(?:in )?brand geraten", "hat gebrannt", "es brennt", "feuer gefangen", "in flammen", "flammen", "feuer",
           "feuerwehr",
           "funken", "geschmolzen", "schmilzt", "zu heiss zum anfassen", "gluht", "glueht",
           "(?:u|ue)berhitz\\w*", "explodiert", "explosion", "stromschlag", "elektrischen schlag",
           "(?:einen )?schlag bekommen", "eine gewischt", "gasgeruch", "riecht nach gas", "gasleck",
           "kohlenmonoxid", "verletzt (?:worden|wurde)", "(?:hat|habe) (?:sich|mich) (?:\\w+ )?verletzt",
           "verletzungen", "verbrennung(?:en)?", "verbr(?:u|ue)ht", "ins krankenhaus", "notaufnahme",
           "vergiftung", "giftig", "erstickungsgefahr", "lebensgefahr", "aufgebl(?:a|ae)ht"),
    "fr": ("fumee", "fume", "(?:sent|odeur de|sentait) (?:le )?brule", "brule(?:e|s|es)?", "brulure\\w*",
           "(?:a |ont )?pris feu", "prend feu", "en feu", "incendie", "flammes?", "etincelles?", "gresill\\w*",
           "(?:a|ont|est|sont) fondu\\w*", "commence a fondre", "surchauff\\w*", "explose\\w*", "explosion",
           "brulant\\w*",
           "decharge electrique", "electrocut\\w*", "(?:pris|prend) une (?:petite )?decharge", "odeur de gaz",
           "fuite de gaz", "sent le gaz", "monoxyde de carbone", "blesse(?:e|s|es)?", "blessure\\w*",
           "(?:emmene|transporte|conduit|fini|finie|termine)\\w* (?:\\w+ ){0,2}a l'hopital", "aux urgences",
           "hospitalise\\w*", "intoxi\\w*"),
    "es": ("humo", "echa humo", "sale humo", "huele a (?:quemado|gas|plastico quemado)", "olor a (?:quemado|gas)",
           "quemad[oa]s?", "se quemo", "quemadura\\w*", "se incendio", "incendio", "fuego", "en llamas",
           "llamaradas?", "chispas", "chisporrote\\w*", "derriti\\w*", "se derrite", "sobrecalent\\w*", "exploto",
           "explosion",
           "descarga electrica", "(?:me |le )?(?:dio|da) (?:la )?(?:corriente|calambre|descarga)", "calambrazo",
           "electrocut\\w*", "fuga de gas", "monoxido de carbono", "herid[oa]s?", "lesion(?:es|ad[oa])?",
           "(?:llevad[oa]|ingresad[oa]|acabe|acabo|termino|terminamos) (?:\\w+ ){0,2}(?:al|en el) hospital",
           "urgencias", "intoxica\\w*"),
}

# People a hazard puts most at risk: named in the reason, and with a danger word they make one.
CHILDREN: Lexicon = {
    "en": ("child(?:ren)?", "kids?", "bab(?:y|ies)", "toddlers?", "infants?", "newborns?", "little ones"),
    "de": ("kinder(?:n)?", "(?:mein|meine|unser|unsere|das|ein|dem|kleines|kleine|kleinen) kind(?:er|ern|es)?",
           "kleinkind\\w*", "baby", "babys", "s(?:a|ae)ugling\\w*", "enkel\\w*"),
    "fr": ("enfants?", "bebes?", "nourrissons?", "tout-petits?", "petits-enfants"),
    "es": ("ninos?", "ninas?", "hijos? pequenos?", "bebes?", "recien nacid[oa]s?", "nietos?"),
}
ELDERLY: Lexicon = {
    "en": ("elderly", "old (?:lady|man|people|person)", "grand(?:mother|father|parents?|ma|pa)", "pregnant",
           "disabled", "vulnerable", "\\d{2}[- ]year[- ]old (?:mother|father|mum|mom|dad|parent)"),
    "de": ("oma", "opa", "gross(?:mutter|vater|eltern)", "senior(?:en|in)",
           "(?:a|ae)ltere (?:dame|frau|herr|mann|menschen|leute)", "\\d{2}-j(?:a|ae)hrige\\w* (?:mutter|vater|oma|opa)",
           "schwanger\\w*", "pflegebed(?:u|ue)rftig\\w*", "behindert\\w*", "hochbetagt\\w*"),
    "fr": ("personnes? agees?", "agee", "grand-mere", "grand-pere", "grands-parents", "mamie", "papi",
           "(?:mere|pere) de \\d{2} ans", "handicape\\w*"),
    "es": ("ancian[oa]s?", "personas? mayor(?:es)?", "abuel[oa]s?", "embarazada", "(?:madre|padre) de \\d{2} anos",
           "discapacitad[oa]s?"),
}
DANGER: Lexicon = {
    "en": ("dangerous", "danger", "unsafe", "hazard\\w*", "at risk"),
    "de": ("gef(?:a|ae)hrlich\\w*", "gefahr"),
    "fr": ("dangereu(?:x|se)", "danger", "risque"),
    "es": ("peligros[oa]", "peligro", "riesgo"),
}

SECURITY: Lexicon = {
    "en": ("hack(?:ed|er|ers|ing)?", "fraud\\w*", "unauthori[sz]ed", "didn'?t (?:make|place|authori[sz]e)",
           "did not (?:make|place|authori[sz]e)", "stolen (?:card|identity|account|password)",
           "card (?:was|has been) stolen", "identity theft", "phishing", "compromised", "data breach", "breach",
           "leak(?:ed)? (?:data|details)", "someone else'?s (?:order|details|data|address)",
           "(?:account|card) (?:was |has been )?(?:taken over|used without)", "taken over my account",
           "account takeover", "someone (?:has )?(?:logged|accessed|used|changed|is (?:using|logged))",
           "scam(?:med)?", "skimm\\w*", "pretend(?:ing|ed) to be",
           "fake (?:website|site|email|text|sms|call|page)",
           "other (?:customers|people|users)'? (?:details|data|names|addresses|information|orders|card)",
           "(?:account|card) (?:has been|was|is being) used", "(?:login|sign-?in) (?:alert|notification) from",
           "(?:logged|signed) in from (?:another|a different|an unknown)",
           "(?:new )?(?:login|log-in|sign-?in)(?: alert| notification)? from",
           "(?:that|this|it) (?:wasn'?t|was not) me"),
    "de": ("gehackt", "betrug(?:s|sfall|sversuch)?", "betr(?:u|ue)gerisch\\w*", "phishing", "nicht autorisiert\\w*",
           "unbefugt\\w*", "nicht von mir", "habe ich nicht (?:get(?:a|ae)tigt|bestellt|gemacht|autorisiert)",
           "nicht bestellt (?:habe|hab)", "nicht von mir (?:bestellt|get(?:a|ae)tigt)",
           "das war (?:nicht ich|ich nicht)",
           "jemand (?:hat sich|ist) (?:\\w+ ){0,3}(?:eingeloggt|angemeldet)",
           "(?:konto|account) (?:wurde )?(?:u|ue)bernommen",
           "identit(?:a|ae)tsdiebstahl", "datenleck", "(?:karte|kreditkarte) (?:wurde )?gestohlen",
           "gestohlene (?:karte|kreditkarte)", "login-benachrichtigung", "anmeldung aus",
           "fremde (?:bestellung|abbuchung)\\w*", "missbraucht"),
    "fr": ("pirate(?:e|s)?", "piratage", "fraude\\w*", "frauduleu\\w*", "arnaque\\w*", "escroquerie\\w*",
           "hameconnage", "phishing", "(?<!transaction )non autorise\\w*",
           "je n'ai (?:jamais |pas )(?:effectue|passe|fait|autorise)",
           "quelqu'un (?:s'est connecte|a accede|utilise|a utilise)", "usurpation d'identite",
           "carte (?:bancaire )?volee", "ce n'etait pas moi", "fuite de donnees",
           "connexion (?:depuis|inconnue|suspecte)"),
    "es": ("hackead[oa]s?", "hackearon", "piratead[oa]s?", "fraude\\w*", "fraudulent[oa]s?", "estafa\\w*",
           "no autorizad[oa]s?", "no (?:he|hice|realice|autorice) (?:\\w+ )?(?:compra|pedido|pago|cargo)s?",
           "alguien (?:ha entrado|entro|accedio|ha accedido|esta usando|uso|ha usado)", "robo de identidad",
           "suplantacion", "tarjeta robada", "no fui yo", "que no he (?:hecho|realizado|autorizado)",
           "(?:cargos?|compras?) (?:que )?no reconoc\\w*", "inicio de sesion (?:desde|sospechoso)",
           "me (?:han )?robado (?:la tarjeta|los datos|la cuenta|la identidad)", "filtracion de datos"),
}

LEGAL: Lexicon = {
    "en": ("lawyers?", "attorneys?", "solicitors?", "legal (?:action|proceedings|claim|steps|advice|team|deadline)",
           "sue", "suing", "lawsuit", "court", "small claims", "tribunal", "ombudsman", "trading standards",
           "consumer protection", "better business bureau", "bbb", "regulator", "report (?:you|this) to",
           "formal complaint", "formal notice", "letter before action", "chargeback", "police report",
           "gdpr complaint", "data protection authority", "statutory deadline"),
    "de": ("(?:rechts)?anwalt\\w*", "anw(?:a|ae)ltin", "anwaltlich\\w*", "klage", "verklagen", "vor gericht",
           "gerichtlich\\w*", "(?:amts|land)gericht", "gerichtsverfahren",
           "rechtliche schritte", "verbraucherzentrale", "schlichtungsstelle", "fristsetzung",
           "(?:eine |die )?frist (?:bis|von|zur|gesetzt)", "(?:gesetzliche|letzte|angemessene) frist",
           "datenschutzbeh(?:o|oe)rde", "dsgvo-beschwerde", "polizei", "strafanzeige", "anzeige erstatten",
           "abmahnung", "mahnverfahren"),
    "fr": ("avocat\\w*", "mise en demeure", "poursuites?(?: judiciaires)?", "porter plainte", "plainte",
           "tribunal", "en justice", "huissier", "cnil", "dgccrf", "mediateur", "delai legal", "associations? "
           "de consommateurs", "police"),
    "es": ("abogad[oa]s?", "demanda judicial", "poner una demanda", "demandar\\w*", "denuncia\\w*", "tribunal\\w*",
           "juzgado", "acciones legales", "medidas legales", "via judicial", "hoja de reclamaciones", "burofax",
           "oficina (?:municipal )?del? consum\\w*", "aepd", "policia", "plazo legal"),
}

# An outage; BUSINESS words make it one that stops a business (critical), not one broken device.
OUTAGE: Lexicon = {
    "en": ("outage", "(?:is|are|been|went|goes|gone) down", "down for (?:everyone|all|hours|days)",
           "not working at all", "doesn'?t work at all", "does not work at all", "won'?t (?:turn|power|switch) on",
           "(?:completely|totally|entirely) (?:dead|broken|down|unusable|stopped)", "stopped working",
           "nothing works", "(?:can'?t|cannot|unable to) (?:log ?in|sign in|access|place (?:any )?orders?|pay|use)"
           "(?: \\w+)? at all", "(?:can'?t|cannot|unable to) (?:take|accept|process|receive) (?:any )?orders",
           "inaccessible", "unreachable", "crash(?:es|ed|ing) (?:every|all|constantly)", "error 5\\d\\d",
           "50[0-4] error"),
    "de": ("funktioniert (?:gar|(?:u|ue)berhaupt) nicht(?: mehr)?", "funktioniert nicht mehr",
           "geht (?:gar nichts|nicht) mehr", "l(?:a|ae)sst sich nicht (?:mehr )?einschalten",
           "schaltet sich nicht (?:mehr )?ein", "ausfall", "ausgefallen", "totalausfall", "st(?:o|oe)rung",
           "(?:ist|sind) down", "nicht erreichbar", "geht gar nichts", "fehler 5\\d\\d", "komplett (?:tot|kaputt)",
           "keine bestellungen (?:mehr )?(?:m(?:o|oe)glich|annehmen|eingehen)",
           "kunden k(?:o|oe)nnen nicht (?:mehr )?(?:bestellen|bezahlen|zahlen)"),
    "fr": ("ne (?:fonctionne|marche) (?:plus|pas du tout)", "(?:est |sont )?en panne", "panne",
           "hors service", "hors ligne", "erreur 5\\d\\d", "inaccessible", "ne s'allume plus",
           "plus rien ne (?:marche|fonctionne)",
           "impossible de (?:passer (?:une |des )?commandes?|commander|payer)",
           "(?:nos )?clients ne peuvent (?:plus|pas) (?:commander|payer)"),
    "es": ("no funciona (?:nada|para nada|en absoluto)", "(?:ha )?dejado de funcionar", "dejo de funcionar",
           "(?:esta|estan) caid[oa]s?", "caida del (?:servicio|sistema|servidor)", "fuera de servicio",
           "sin servicio", "no (?:se )?enciende", "no podemos (?:hacer|realizar|recibir|aceptar) pedidos",
           "los clientes no pueden (?:comprar|pagar|hacer pedidos)",
           "imposible (?:hacer pedidos|pagar|acceder)"),
}
# ("at all" and "every time" say how broken, not how widely: only words naming many people or the business.)
BUSINESS: Lexicon = {
    "en": ("all (?:our|of our|the|my) (?:customers|users|staff|stores|shops|sites|orders)",
           "every (?:customer|user|store)",
           "(?:whole|entire) (?:team|company|office|business|site|website|system|shop|store|platform)", "company",
           "business", "production", "stores", "customers", "staff", "team", "everyone", "api", "checkout", "portal",
           "platform", "servers?", "website", "site", "orders"),
    "de": ("alle (?:kunden|mitarbeiter|filialen|bestellungen|nutzer)", "gesamte\\w*", "firma", "betrieb", "kunden",
           "mitarbeiter\\w*", "shop", "onlineshop", "kasse", "webseite", "website", "server", "plattform", "filialen",
           "bestellungen"),
    "fr": ("tous (?:nos|les) (?:clients|magasins|utilisateurs|employes)", "toute l'equipe", "entreprise", "clients",
           "boutique", "site", "serveur", "plateforme", "magasins", "caisse", "commandes"),
    "es": ("todos (?:los|nuestros) (?:clientes|usuarios|empleados|pedidos)", "toda la (?:tienda|empresa|oficina)",
           "empresa", "negocio", "clientes", "tienda", "web", "servidor", "plataforma", "pedidos", "caja"),
}

# ---------------------------------------------------------------- high

# Words that are urgent on their own.
DEADLINE_WORDS: Lexicon = {
    "en": ("urgent(?:ly)?", "asap", "a\\.s\\.a\\.p", "as soon as possible", "immediately(?! after| when| on)",
           "right away",
           "straight away", "emergency", "time[- ]sensitive", "deadline", "last day",
           "before (?:it|the order|my order) (?:ships|is shipped|is dispatched|goes out)",
           "(?:closes?|expires?|ends|shuts? (?:\\w+ )?down|runs? out|leaves|ships|goes out) (?:\\w+ ){0,3}?"
           "(?:today|tonight|tomorrow)", "within (?:the |an |\\d+ |one |two )?"
           "(?:hour|hours|minutes)"),
    "de": ("dringend\\w*", "eilt", "eilig",
           "(?<!oder )(?<!or )(?<!via )(?<!mit )sofort(?! nach| abgebucht| belastet| berechnet| geliefert)", "umgehend",
           "unverz(?:u|ue)glich",
           "so schnell wie m(?:o|oe)glich", "schnellstm(?:o|oe)glich", "notfall", "heute noch", "noch heute",
           "l(?:a|ae)uft (?:heute|morgen) ab", "innerhalb von (?:24|48|\\d+) stunden"),
    "fr": ("urgent(?:e|es|s)?", "urgence", "au plus vite", "des que possible", "le plus rapidement possible",
           "immediatement(?! apres)", "sans delai", "date limite", "expire (?:aujourd'?\\s?hui|ce soir|demain)",
           "(?:sous|dans les) (?:24|48) ?h(?:eures)?"),
    "es": ("urgente\\w*", "urgencia", "lo antes posible", "cuanto antes", "inmediatamente(?! despues)", "de inmediato",
           "fecha limite", "vence (?:hoy|manana)", "en (?:las proximas )?(?:24|48) horas"),
}
# Words that make a deadline of a following time word: "by Friday", "bis morgen", "d'ici demain", "para mañana".
DEADLINE_BY: Lexicon = {
    "en": ("by", "before", "no later than", "not later than", "due"),
    "de": ("bis", "bis sp(?:a|ae)testens", "sp(?:a|ae)testens", "vor"),
    "fr": ("avant", "d'ici", "au plus tard"),
    "es": ("antes (?:de|del)", "a mas tardar", "como muy tarde"),
}
# Needs and events that make a deadline of a time word a few words on: "need it for Saturday", "flight tomorrow".
DEADLINE_NEED: Lexicon = {
    "en": ("need(?:s|ed)?", "require[sd]?", "want (?:it|this|that|them)", "fix(?:ed)?", "resolved", "sorted",
           "solved", "call me", "respond", "reply", "present", "gift", "party", "event", "dinner", "guests",
           "audit", "meeting", "birthday", "flight", "flying", "fly", "leaving", "travel\\w*", "trip", "wedding",
           "funeral", "exam",
           "interview", "surgery", "moving", "launch"),
    "de": ("brauche\\w*", "braucht", "ben(?:o|oe)tige\\w*", "erledigt", "gel(?:o|oe)st", "melden",
           "zur(?:u|ue)ckrufen", "geschenk", "geburtstag", "feier", "party", "g(?:a|ae)ste", "flug", "fliege\\w*",
           "reise\\w*", "hochzeit", "beerdigung", "umzug", "pr(?:u|ue)fung"),
    "fr": ("besoin", "rappelez(?:-moi)?", "regle", "resolu", "repondez", "cadeau", "anniversaire", "fete", "invites",
           "(?:mon|notre) vol", "voyage", "pars", "depart", "mariage", "demenage\\w*", "examen"),
    "es": ("necesit\\w*", "hace falta", "resuelto", "solucionado", "llamenme", "respondan", "regalo", "cumpleanos",
           "fiesta",
           "invitados", "vuelo", "viaj\\w*", "boda", "funeral",
           "mudanza", "me mudo", "examen"),
}
# At the latest: "Friday at the latest", "morgen spätestens", "demain au plus tard".
DEADLINE_LATEST: Lexicon = {
    "en": ("at the latest",), "de": ("sp(?:a|ae)testens",), "fr": ("au plus tard", "dernier delai"),
    "es": ("a mas tardar", "como muy tarde"),
}

# Money wrongly taken: charged twice, charged after cancelling, still being charged.
MONEY: Lexicon = {
    "en": ("(?:charged|billed|debited|taken|deducted) (?:me )?(?:twice|two times|2 times|three times|double)",
           "double[- ](?:charged|billed|charge|payment|debit)", "duplicate (?:charge|payment|transaction|debit)s?",
           "charged (?:me )?(?:again )?(?:after|even though|although|despite) (?:i )?(?:had )?cancel\\w*",
           "(?:still|keep|kept) (?:being )?(?:charg\\w*|bill\\w*|taking (?:money|payments?))", "overcharg\\w*",
           "charged (?:me )?the wrong amount", "wrong amount (?:was )?(?:charged|taken|debited)",
           "took (?:the )?(?:money|payment) (?:twice|again)", "money (?:was )?taken (?:twice|without)"),
    "de": ("(?:doppelt|zweimal|2x|zwei mal|mehrfach|dreimal) (?:\\w+ )?(?:abgebucht|belastet|berechnet|bezahlt|"
           "eingezogen|abgezogen)", "doppelte (?:abbuchung|belastung|zahlung|rechnung)",
           "(?:trotz|nach) (?:der |meiner )?k(?:u|ue)ndigung (?:\\w+ ){0,4}(?:abgebucht|belastet|berechnet|eingezogen)",
           "(?:abgebucht|belastet|berechnet|eingezogen) (?:\\w+ ){0,4}(?:trotz|nach|obwohl) (?:\\w+ ){0,3}"
           "(?:k(?:u|ue)ndigung|gek(?:u|ue)ndigt|storniert|storno)",
           "(?:immer noch|weiterhin) (?:\\w+ )?(?:abgebucht|belastet|eingezogen)",
           "zu viel (?:\\w+ )?(?:abgebucht|berechnet|belastet)",
           "unberechtigt\\w* (?:\\w+ )?(?:abbuchung|abgebucht|belastung|belastet)"),
    "fr": ("(?:debite|preleve|facture|paye|encaisse)(?:e|s|es)? (?:\\w+ )?(?:deux|2|trois) fois",
           "double (?:prelevement|debit|facturation|paiement)", "(?:prelevement|debit|paiement)s? en double",
           "(?:debite|preleve|facture)(?:e|s|es)? a tort",
           "(?:preleve|debite|facture)(?:e|s|es)? (?:\\w+ ){0,3}(?:malgre|apres) (?:\\w+ ){0,2}"
           "(?:resiliation|annulation)",
           "(?:malgre|apres) (?:\\w+ ){0,2}(?:resiliation|annulation) (?:\\w+ ){0,4}(?:preleve|debite|facture)",
           "(?:toujours|encore) (?:ete )?(?:preleve|debite|facture)(?:e|s|es)?", "trop (?:preleve|percu|facture)",
           "montant (?:incorrect|errone)"),
    "es": ("(?:cobrad[oa]s?|cobraron|cargad[oa]s?|cargaron|descontad[oa]s?|pagad[oa]s?|cobran) (?:\\w+ ){0,2}"
           "(?:dos|2|tres) veces", "(?:cobro|cargo|pago)s? (?:duplicad[oa]s?|doble)", "doble (?:cobro|cargo|pago)",
           "cobrad[oa] doble", "(?:siguen|sigue|han seguido) cobrando",
           "cobr\\w* (?:\\w+ ){0,3}(?:despues de|tras|a pesar de) (?:\\w+ ){0,2}(?:cancel\\w*|darme de baja|la baja)",
           "(?:cobro|cargo) indebido", "cobrad[oa] de mas", "cobraron de mas"),
}

# Charged after cancelling, in any word order within one sentence ("renewed even though I cancelled",
# "J'ai résilié Plus au 1er, et le 3 on m'a encore prélevé"): see models.signals.
CHARGED: Lexicon = {
    "en": ("charged", "billed", "debited", "renewed", "deducted", "took (?:the )?(?:money|payment)"),
    "de": ("abgebucht", "belastet", "berechnet", "eingezogen", "abgezogen", "verl(?:a|ae)ngert"),
    "fr": ("preleve\\w*", "debite\\w*", "facture(?:e|s|es)?", "renouvele\\w*", "encaisse\\w*"),
    "es": ("cobrad[oa]s?", "cobraron", "cobrasteis", "(?:habeis|han|me) cobrado", "cargad[oa]s?", "renovad[oa]"),
}
CANCELLED: Lexicon = {
    "en": ("cancel(?:l?ed|lation)",),
    "de": ("gek(?:u|ue)ndigt", "k(?:u|ue)ndigung", "storniert"),
    "fr": ("resilie\\w*", "resiliation", "annule\\w*", "annulation"),
    "es": ("cancel(?:e|o|ado|ada|ación|acion)", "di de baja", "dado de baja"),
}

# Locked out of the account; with DISPATCH words (an order about to ship) it cannot wait.
LOCKOUT: Lexicon = {
    "en": ("locked out", "lock(?:ed)? me out", "(?:can'?t|cannot|can not|unable to) (?:log ?in|sign in|get into|access)"
           "(?: to)?(?: my)?(?: account)?",
           "(?:account|login) (?:is |has been |was )?(?:locked|blocked|suspended|disabled)",
           "password reset (?:email )?(?:isn'?t|doesn'?t|does not|is not|never) (?:work\\w*|arriv\\w*)"),
    "de": ("ausgesperrt", "(?:konto|kundenkonto|account|zugang|login) (?:\\w+ )?(?:gesperrt|blockiert)",
           "kann mich nicht (?:mehr )?(?:einloggen|anmelden)", "komme nicht (?:mehr )?in mein (?:kunden)?konto",
           "(?:einloggen|anmelden|login) (?:\\w+ )?(?:nicht m(?:o|oe)glich|geht nicht|funktioniert nicht)"),
    "fr": ("(?:compte|acces) (?:\\w+ )?(?:bloque|suspendu|verrouille|desactive)",
           "(?:impossible de|je n'arrive (?:plus|pas) a|je ne peux (?:plus|pas)) (?:me (?:re)?connecter|acceder)"),
    "es": ("(?:cuenta|acceso) (?:\\w+ )?(?:bloquead[oa]|suspendid[oa]|desactivad[oa])",
           "no (?:puedo|consigo|logro) (?:entrar|acceder|iniciar sesion|conectarme)",
           "no me deja (?:entrar|acceder|iniciar sesion)"),
}
DISPATCH: Lexicon = {
    "en": ("(?:ships|shipping|arriv\\w*|delivered|dispatched|goes out|leaves) (?:\\w+ )?(?:today|tonight|tomorrow)",
           "before (?:\\w+ ){0,3}(?:ships|is shipped|is dispatched|goes out|is sent)",
           "(?:about|going) to (?:ship|be shipped|be dispatched|go out)", "ships (?:today|tonight|tomorrow|on|in)",
           "dispatch(?:ed)? (?:today|tomorrow)", "(?:delivery|shipping) address"),
    "de": ("bevor (?:\\w+ ){0,4}(?:versendet|verschickt|versandt|rausgeht)", "versand (?:ist )?(?:heute|morgen)",
           "lieferadresse"),
    "fr": ("avant (?:l'expedition|l'envoi|qu'elle (?:ne )?soit expediee|que la commande (?:ne )?parte)",
           "expedi\\w* (?:aujourd'?\\s?hui|demain)", "adresse de livraison"),
    "es": ("antes de(?:l envio| que (?:se )?(?:envie|salga|mande))", "(?:sale|se envia) (?:hoy|manana)",
           "direccion de (?:envio|entrega)"),
}

# ---------------------------------------------------------------- raises one step

CHURN: Lexicon = {
    "en": ("(?:switch|switching|move|moving|go|going)(?: over)? to (?:a |an )?(?:competitor|another (?:provider|"
           "company|supplier|bank|store|shop|service|airline|carrier))", "go(?:ing)? elsewhere",
           "take my business elsewhere", "(?:leave|leaving) (?:you|your)",
           "never (?:buy|order|shop|use)\\w* (?:from|with)? ?(?:you|here)? ?again", "last (?:chance|attempt) before",
           "done with (?:you|your)"),
    "de": ("zur konkurrenz", "woanders (?:bestellen|kaufen)",
           "nie wieder (?:\\w+ ){0,2}(?:bestellen|kaufen|bestelle|kaufe)"),
    "fr": ("(?:aller|partir) (?:voir )?ailleurs", "chez (?:la )?concurren\\w*",
           "plus jamais (?:\\w+ )?(?:commander|acheter)"),
    "es": ("(?:a|con) la competencia", "me voy a otra",
           "nunca mas (?:\\w+ )?(?:compro|comprare|pido|pedire)"),
}

REPEATED_CONTACT: Lexicon = {
    "en": ("(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\\d+th|umpteenth|nth) (?:time|attempt|email|call|request)",
           "(?:two|three|four|five|six|several|multiple|many|\\d+) (?:times|emails|calls|messages|attempts)",
           "how many (?:more )?times", "again and again", "yet again",
           "no (?:one|body) (?:has )?(?:replied|responded|answered|got back|gotten back|called)",
           "nobody (?:has )?(?:replied|responded|answered|got back|called)",
           "(?:never|not) (?:heard|had a reply|received a reply)",
           "already (?:contacted|called|emailed|written|wrote|asked|explained|told)",
           "follow(?:ing)?[- ]up (?:on|again)",
           "keep (?:being told|getting|telling|asking)", "chased", "chasing"),
    "de": ("zum (?:zweiten|dritten|vierten|f(?:u|ue)nften|x-ten|wiederholten|\\d+\\.) mal",
           "(?:schon|bereits) (?:mehrmals|mehrfach|zweimal|dreimal|x-mal|oft|\\d+ ?mal)",
           "(?:schon|bereits) (?:\\w+ ){0,2}(?:angerufen|geschrieben|kontaktiert|gemeldet|nachgefragt)",
           "keine antwort (?:erhalten|bekommen)", "(?:niemand|keiner) (?:hat )?(?:\\w+ )?(?:geantwortet|reagiert|"
           "zur(?:u|ue)ckgerufen|gemeldet)", "schreibe (?:ihnen )?erneut", "frage (?:\\w+ )?erneut nach"),
    "fr": ("(?:deuxieme|troisieme|quatrieme|enieme|nieme|2e|3e) (?:fois|relance|mail|e-mail|appel|demande)",
           "je (?:vous )?relance", "relance", "deja (?:\\w+ ){0,2}(?:ecrit|appele|contacte|relance|signale)",
           "plusieurs (?:fois|mails|e-mails|appels|relances)", "toujours (?:pas|aucune) (?:de )?reponse",
           "aucune reponse", "sans reponse", "personne ne (?:me )?(?:repond|rappelle)"),
    "es": ("(?:segunda|tercera|cuarta|enesima) vez", "(?:escrito|llamado|contactado|reclamado) (?:\\w+ )?"
           "(?:dos|tres|varias|muchas) veces", "ya (?:he|les he|os he) (?:escrito|llamado|contactado|reclamado)",
           "varias veces", "sin respuesta", "ninguna respuesta",
           "nadie (?:me )?(?:responde|contesta|ha respondido|ha contestado|llama)"),
}

# "Not urgent", "no rush": the customer says outright that it can wait.
CALM: Lexicon = {
    "en": ("not (?:urgent|in a hurry|a priority)", "no (?:rush|hurry|pressure)", "whenever (?:you|it'?s)",
           "in your own time", "when(?:ever)? you (?:get|have) (?:a )?(?:chance|moment|time)"),
    "de": ("nicht (?:so )?dringend", "keine eile", "eilt nicht", "hat zeit", "in ruhe",
           "wenn (?:sie|du) (?:mal )?zeit (?:haben|hast)"),
    "fr": ("pas (?:tres |si )?urgent", "rien d'urgent", "aucune urgence", "pas presse",
           "quand vous (?:aurez|avez) (?:le )?temps", "prenez votre temps"),
    "es": ("no es urgente", "nada urgente", "sin prisa", "no hay prisa", "cuando (?:puedan|pueda|tengan tiempo)"),
}

# ---------------------------------------------------------------- low: not a support request

PERSONAL: Lexicon = {
    "en": ("are we still on", "still on for", "hi (?:mum|mom|dad|honey|babe|darling|sis|bro)", "love you", "miss you",
           "see you (?:on|at|tonight|tomorrow|saturday|sunday|soon|later)", "let'?s (?:meet|grab|catch up)",
           "catch up (?:over|for) (?:drinks|lunch|dinner)", "grab (?:a )?(?:drinks?|lunch|dinner)",
           "happy birthday", "birthday party", "xoxo"),
    "de": ("bleibt es (?:bei|dabei)(?: unserem| unserer| dem)? (?:treffen|termin|samstag|sonntag|montag|dienstag|"
           "mittwoch|donnerstag|freitag|heute|morgen)", "sehen wir uns", "treffen wir uns", "hast du (?:zeit|lust)",
           "hab dich lieb",
           "alles gute zum geburtstag", "auf einen kaffee", "bis (?:dann|sp(?:a|ae)ter)(?: und)? (?:liebe |lg)",
           "liebe gr(?:u|ue)sse,? (?:mama|papa|deine|dein)", "kuss", "b(?:u|ue)sschen"),
    "fr": ("on se voit", "on se retrouve", "tu es (?:toujours )?(?:dispo|libre)", "ca tient toujours",
           "toujours partant", "bisous", "gros bisous", "joyeux anniversaire", "prendre un verre"),
    "es": ("seguimos quedando", "sigue en pie", "quedamos (?:el|para|manana|este|a las)",
           "nos vemos (?:el|manana|esta|este|luego|pronto)", "tomar algo", "besos", "un beso",
           "feliz cumpleanos", "estas libre", "te echo de menos"),
}
JOB: Lexicon = {
    "en": ("job application", "(?:apply|applying) for (?:the|a|your) (?:\\w+ ){0,3}(?:position|role|job|vacancy)",
           "(?:my|attached(?: is)?(?: my)?) (?:cv|resume|curriculum vitae)", "cover letter",
           "open (?:positions?|roles?|vacanc(?:y|ies))", "internship", "available to start",
           "i would like to apply", "i am writing to apply", "hiring manager"),
    "de": ("bewerbung\\w*", "bewerbe mich", "lebenslauf", "anschreiben", "stellenanzeige", "stellenausschreibung",
           "offene stelle", "praktikum\\w*", "ausbildungsplatz"),
    "fr": ("candidature", "postuler", "lettre de motivation", "(?:mon|ci-joint mon|ci-joint) cv", "offre d'emploi",
           "demande de stage", "un stage", "stage de"),
    "es": ("solicitud de empleo", "candidatura", "(?:mi|adjunto mi|adjunto el) (?:cv|curriculum)",
           "oferta de (?:empleo|trabajo)", "puesto de trabajo", "vacante", "postularme", "me gustaria trabajar",
           "practicas profesionales"),
}
PITCH: Lexicon = {
    "en": ("seo (?:services|agency|audit|experts?|package)", "rank (?:higher|on the first page|#1)",
           "first page of google", "increase (?:your )?(?:traffic|sales|leads|conversions)", "backlinks?",
           "guest post\\w*", "web design services",
           "our (?:agency|company) (?:offers|specializes|specialises|can help)",
           "(?:we|i) help(?:ed)? (?:companies|businesses|brands)", "schedule a (?:quick )?demo",
           "15[- ]minute call", "partnership (?:opportunity|proposal)", "lead generation",
           "(?:app|web|software) development services"),
    "de": ("suchmaschinenoptimierung", "seo", "mehr (?:traffic|umsatz|kunden) f(?:u|ue)r ihr\\w*",
           "kooperationsanfrage", "unverbindliche\\w* (?:angebot|gespr(?:a|ae)ch|erstgespr(?:a|ae)ch)", "backlinks?",
           "gastbeitrag", "wir sind eine agentur", "unsere agentur"),
    "fr": ("referencement", "premiere page de google", "augmenter (?:votre|vos) (?:trafic|ventes|chiffre)",
           "partenariat", "proposition commerciale", "notre agence", "rendez-vous de 15 minutes"),
    "es": ("posicionamiento (?:web|seo)", "primera pagina de google", "aumentar (?:sus|tus) (?:ventas|visitas)",
           "propuesta (?:comercial|de colaboracion)", "nuestra agencia", "somos una agencia"),
}
AUTO_REPLY: Lexicon = {
    "en": ("out of (?:the )?office", "automatic reply", "auto-?reply", "i am (?:currently )?away"),
    "de": ("abwesenheitsnotiz", "automatische antwort", "nicht im b(?:u|ue)ro", "abwesend"),
    "fr": ("reponse automatique", "absente? du bureau", "message d'absence"),
    "es": ("respuesta automatica", "fuera de la oficina", "mensaje de ausencia"),
}
SPAM: Lexicon = {
    "en": ("you(?: have|'ve)? won", "claim your (?:prize|reward|gift)", "lottery",
           "(?:crypto(?:currency)?|bitcoin) (?:investment|trading|opportunity)", "viagra", "casino", "inheritance",
           "make money (?:fast|from home|online)", "100% free", "act now", "no prescription", "weight loss",
           "hot singles"),
    "de": ("sie haben gewonnen", "gewinnspiel", "gewinn abholen", "erbschaft", "kredit ohne schufa",
           "schnell geld verdienen"),
    "fr": ("vous avez gagne", "reclamez votre (?:prix|cadeau)", "heritage", "gagner de l'argent"),
    "es": ("(?:has|ha) ganado", "reclame su premio", "herencia", "gane dinero", "gana dinero"),
}

# ---------------------------------------------------------------- low: fine to wait (only without a problem)

NEWSLETTER: Lexicon = {
    "en": ("unsubscribe\\w*", "(?:sign(?:ed)? up|subscribe|subscription) (?:to|for|from) (?:the |your |a )?newsletter",
           "newsletter (?:sign-?up|frequency|subscription)", "view in (?:your )?browser", "mailing list",
           "stop (?:sending|emailing)",
           "remove me from (?:your|the|this) (?:\\w+ )?(?:list|mailing)", "opt(?: |-)?out"),
    "de": ("newsletter (?:abbestellen|abmelden|bestellen|abonnieren)", "(?:aus dem|vom) newsletter", "abbestellen",
           "im browser (?:ansehen|anzeigen|(?:o|oe)ffnen)", "keine (?:werbung|e-mails|mails|werbemails) mehr",
           "austragen",
           "vom verteiler"),
    "fr": ("desabonner", "desinscri\\w*", "(?:a|de) la newsletter", "voir dans (?:le|votre) navigateur",
           "ne plus recevoir",
           "liste de diffusion"),
    "es": ("darme de baja (?:del|de la|de) (?:newsletter|boletin|lista)", "(?:al|del) boletin",
           "(?:a|de) la newsletter",
           "ver en el navegador",
           "dejar de recibir", "no quiero recibir mas", "lista de correo"),
}
PRAISE: Lexicon = {
    "en": ("just wanted to say", "keep up the good work", "happy customer", "well done", "love (?:the|my|your|it)",
           "great (?:service|product|job|work|support)", "(?:thank you|thanks) so much for", "compliments to",
           "looks great", "works (?:great|perfectly|brilliantly)"),
    "de": ("super service", "tolle\\w* (?:service|produkt|arbeit)", "bin (?:total |sehr )?begeistert",
           "bin sehr zufrieden", "grosses lob", "ein lob", "weiter so", "vielen dank f(?:u|ue)r (?:den|die|das) "
           "(?:tollen|tolle|super|schnellen|schnelle|grossartigen)"),
    "fr": ("excellent service", "service (?:excellent|impeccable|au top)", "(?:je suis|suis) ravie?",
           "tres satisfaite?", "bravo", "felicitations", "je voulais (?:juste )?vous dire", "continuez comme ca",
           "j'adore"),
    "es": ("excelente servicio", "servicio (?:excelente|estupendo)", "estoy encantad[oa]", "muy content[oa]",
           "muy satisfech[oa]", "enhorabuena", "felicidades", "solo queria (?:decir|agradecer)", "sigan asi",
           "me encanta"),
}
PRESALES: Lexicon = {
    "en": ("do you (?:ship|deliver|sell|offer|stock|plan|have plans)", "is there a (?:newsletter|discount|student)",
           "what(?:'?s| is) the difference between", "thinking of (?:buying|getting|ordering)",
           "before (?:i|we) (?:buy|order|purchase)", "planning to (?:buy|order|purchase)", "any plans to",
           "will you (?:release|restock|stock|offer)", "back in stock", "how much (?:is|does|do|are)",
           "gift wrap\\w*", "bulk (?:order|discount)", "where are your products"),
    "de": ("liefern sie (?:auch )?nach", "versenden sie (?:auch )?nach", "bevor ich (?:\\w+ )?(?:bestelle|kaufe)",
           "(?:u|ue)berlege\\w* (?:\\w+ ){0,4}zu kaufen", "unterschied zwischen",
           "wieder (?:verf(?:u|ue)gbar|auf lager)",
           "was kostet", "gibt es (?:\\w+ ){0,3}auch in"),
    "fr": ("livrez-vous", "expediez-vous", "est-ce que vous livrez",
           "je (?:pense|compte|souhaite) (?:acheter|commander)", "difference entre",
           "(?:de nouveau|a nouveau) (?:en stock|disponible)", "combien coute"),
    "es": ("(?:haceis|hacen) envios a", "envian a", "estoy pensando en comprar",
           "diferencia entre", "(?:vuelve|volvera) a estar disponible", "cuanto cuesta"),
}
# A problem named in the same message keeps praise, pre-sales and newsletter words from lowering it
# ("love the lamp, but it stopped charging").
PROBLEM: Lexicon = {
    "en": ("but", "however", "although", "unfortunately", "problems?", "issues?", "broken", "faulty", "defect\\w*",
           "refund\\w*", "missing", "wrong", "damaged", "error", "complain\\w*", "late", "delay\\w*",
           "not (?:working|arrived|received)",
           "hasn'?t (?:arrived|come|shipped)", "never (?:arrived|came)", "nothing (?:has )?(?:shipped|arrived|come)",
           "still (?:no|not|waiting)", "stopped", "charged", "paid", "my order", "i ordered"),
    "de": ("aber", "leider", "jedoch", "problem\\w*", "defekt\\w*", "kaputt\\w*", "fehler\\w*", "fehlt", "falsch\\w*",
           "besch(?:a|ae)digt\\w*", "erstattung", "r(?:u|ue)ckerstattung", "reklamation", "funktioniert nicht",
           "nicht (?:angekommen|erhalten|funktioniert)", "noch nicht (?:angekommen|da)", "abgebucht",
           "versp(?:a|ae)t\\w*", "bezahlt", "meine bestellung",
           "habe (?:\\w+ )?bestellt"),
    "fr": ("mais", "cependant", "malheureusement", "problemes?", "casse\\w*", "defectueu\\w*", "panne", "erreur",
           "manque", "remboursement", "reclamation", "ne (?:marche|fonctionne) (?:pas|plus)", "pas (?:recu|arrive)",
           "toujours pas", "debite", "retard\\w*", "paye", "ma commande",
           "j'ai commande"),
    "es": ("pero", "sin embargo", "lamentablemente", "desafortunadamente", "problemas?", "rot[oa]", "defectuos\\w*",
           "averia", "error", "falta", "reembolso", "reclamacion", "no funciona", "no (?:ha )?llegad[oa]",
           "no (?:he )?recibid[oa]", "todavia no", "aun no", "cobrad[oa]", "retraso", "pagado", "pague", "mi pedido"),
}

# ---------------------------------------------------------------- anger and frustration

PROFANITY: Lexicon = {
    "en": ("f+u+c+k\\w*", "f\\*+k\\w*", "wtf", "sh[i1]t\\w*", "bullsh\\w*", "crap+y?", "damn(?:ed|it)?", "goddamn\\w*",
           "bloody", "(?:the|to|bloody) hell", "piss(?:ed)?(?: off)?", "bastards?", "arse", "ass(?:holes?)?",
           "screw(?:ed)? (?:you|up|over)",
           "sucks?"),
    "de": ("scheiss?e?\\w*", "verdammt\\w*", "verflucht\\w*", "mist", "kacke", "arschl(?:o|oe)ch\\w*",
           "drecks\\w*"),
    "fr": ("merde\\w*", "putain", "bordel", "fait chier", "chier", "foutu\\w*", "foutez", "connerie\\w*",
           "salaud\\w*", "enfoire\\w*"),
    "es": ("mierda", "joder", "jodid[oa]s?", "hostia\\w*", "cabron\\w*", "puta\\w*", "maldit[oa]s?", "carajo",
           "cojones"),
}
INSULTS: Lexicon = {
    "en": ("idiots?", "idiotic", "morons?", "moronic", "stupid", "incompetent", "incompetence", "useless", "pathetic",
           "clowns?", "amateurs?", "amateurish", "liars?", "lying", "thie(?:f|ves)", "crooks?", "scammers?",
           "rip[- ]?off", "joke", "laughable", "disgrace(?:ful)?", "shameful", "shambles", "clueless", "worthless",
           "garbage", "rubbish", "trash", "hopeless"),
    "de": ("idiot\\w*", "inkompetent\\w*", "unf(?:a|ae)hig\\w*", "betr(?:u|ue)ger\\w*", "abzocke\\w*", "abzocker\\w*",
           "frechheit", "unversch(?:a|ae)mt\\w*", "l(?:a|ae)cherlich\\w*", "saftladen", "nutzlos\\w*",
           "st(?:u|ue)mper\\w*", "dilettant\\w*", "ein witz"),
    "fr": ("incompetent\\w*", "nul(?:le)?s?(?! part)", "escroc\\w*", "voleurs?", "honteu\\w*", "une honte",
           "lamentable\\w*", "minable\\w*", "arnaqueur\\w*", "inutiles?", "imbecile\\w*", "abruti\\w*",
           "pathetique\\w*", "guignol\\w*", "une blague"),
    "es": ("incompetente\\w*", "inutil\\w*", "ladron\\w*", "estafador\\w*", "sinverguenza\\w*", "una verguenza",
           "patetic[oa]s?", "ridicul[oa]s?", "idiota\\w*", "payaso\\w*", "chapuza\\w*", "timador\\w*", "una broma",
           "un chiste", "basura"),
}
FRUSTRATION: Lexicon = {
    "en": ("unacceptable", "ridiculous", "absurd", "outrageous", "appalling", "appalled", "disgusting", "disgusted",
           "furious", "livid", "fuming", "outraged", "infuriat\\w*", "angry", "mad at", "frustrat\\w*", "annoy\\w*",
           "fed up", "sick (?:and tired )?of", "had enough", "last straw", "enough is enough", "terrible", "horrible",
           "horrendous", "awful", "worst", "atrocious", "never again", "waste of (?:my )?(?:time|money)",
           "beyond (?:a )?joke", "i'?m done", "done being", "how (?:hard|difficult) (?:is it|can it be)",
           "are you (?:kidding|serious)", "seriously\\?", "what a joke", "nobody (?:cares|helps)",
           "no one (?:cares|helps)"),
    "de": ("inakzeptabel", "nicht akzeptabel", "unzumutbar", "zumutung", "(?:a|ae)rgerlich", "ver(?:a|ae)rgert",
           "w(?:u|ue)tend", "sauer", "entt(?:a|ae)uscht\\w*", "frustrier\\w*", "genervt", "es reicht",
           "mir reicht'?s", "katastroph\\w*", "schrecklich", "furchtbar", "miserabel", "skandal\\w*", "nie wieder",
           "zeitverschwendung", "nicht wahr sein", "wie oft noch", "ist das ihr ernst"),
    "fr": ("inacceptable", "inadmissible", "scandale\\w*", "scandaleu\\w*", "furieu\\w*", "en colere", "enerve\\w*",
           "agace\\w*", "decu\\w*", "frustr\\w*", "ras[- ]le[- ]bol", "j'en ai marre", "marre", "c'est une blague",
           "catastroph\\w*", "horrible\\w*", "pire", "plus jamais", "jamais plus", "perte de temps", "insupportable",
           "n'importe quoi", "vous vous moquez"),
    "es": ("inaceptable", "inadmisible", "indignante", "indignad[oa]s?", "indignacion", "furios[oa]s?",
           "enfadad[oa]s?", "enojad[oa]s?", "hart[oa]s?", "decepcion\\w*", "frustrad[oa]s?", "frustrante",
           "vergonzoso", "horrible", "terrible", "pesim[oa]s?", "(?:el|la) peor", "nunca mas", "perdida de tiempo",
           "es una broma", "en serio\\?", "hasta las narices", "desastre\\w*"),
}
STILL_WAITING: Lexicon = {
    "en": ("still (?:no|not|nothing|haven'?t|hasn'?t|waiting|have not|has not|can'?t|cannot|doesn'?t|won'?t)",),
    "de": ("(?:immer noch|noch immer) (?:nicht|kein\\w*|nichts)", "warte (?:\\w+ )?(?:immer noch|noch immer|seit)"),
    "fr": ("toujours (?:pas|rien|aucun\\w*|en attente)", "j'attends toujours", "j'attends depuis"),
    "es": ("(?:todavia|aun) (?:no|nada|sin)", "sigo (?:esperando|sin)", "llevo (?:\\w+ ){0,2}esperando"),
}

# ---------------------------------------------------------------- acknowledgement (conversation sentiment)

# A message made only of these (with greetings, sign-offs, a name, punctuation and emoji) says nothing new.
ACKNOWLEDGEMENT: Lexicon = {
    "en": ("thanks?(?: you)?", "thx", "ty", "cheers", "ok(?:ay)?", "k", "great", "perfect", "got it", "noted",
           "will do", "sounds good", "cool", "fine", "alright", "all right", "understood", "much appreciated",
           "appreciated?", "so much", "very much", "a lot", "lots", "again", "anyway", "for (?:your|the) (?:help|"
           "reply|answer|quick reply|update)", "hi", "hello", "hey", "regards", "best(?: regards| wishes)?",
           "kind regards", "have a (?:nice|good|great) (?:day|weekend)"),
    "de": ("danke(?: sch(?:o|oe)n| sehr)?", "dankesch(?:o|oe)n", "vielen dank", "besten dank", "herzlichen dank",
           "alles klar", "super", "passt", "gut", "ok", "in ordnung", "verstanden", "prima",
           "f(?:u|ue)r (?:ihre|die|deine) "
           "(?:hilfe|antwort|r(?:u|ue)ckmeldung)", "hallo", "mfg", "lg", "vg", "gr(?:u|ue)sse?",
           "(?:viele|liebe|beste|freundliche) gr(?:u|ue)sse", "sch(?:o|oe)nen tag"),
    "fr": ("merci(?: beaucoup| bien)?", "d'accord", "ok", "parfait", "super", "genial", "entendu", "bien recu",
           "tres bien", "pour (?:votre|ton|la) (?:aide|reponse)", "bonjour", "salut", "cordialement",
           "bonne (?:journee|soiree)"),
    "es": ("(?:muchas )?gracias", "mil gracias", "vale", "perfecto", "de acuerdo", "genial", "entendido", "muy bien",
           "por (?:tu|su|vuestra|la) (?:ayuda|respuesta)", "hola", "saludos", "un saludo", "buen dia"),
}

# ---------------------------------------------------------------- explicit requests (drafts answer them)

# The customer asks to be phoned: "call me back", "Rückruf", "rappelez-moi", "llámeme".
CALLBACK: Lexicon = {
    "en": ("call me(?: back)?", "(?:give|gave) me a (?:call|ring)", "ring me(?: back)?", "phone me",
           "call (?:me )?on (?:my|this) (?:number|mobile|phone)", "call back", "callback", "(?:a|by) phone call",
           "speak to (?:someone|somebody|a person|a human) (?:on|by|over) the phone", "reach me (?:on|at) \\+?\\d"),
    "de": ("ruf(?:en)? sie mich (?:\\w+ )?an", "ruf mich (?:\\w+ )?an", "r(?:u|ue)ckruf\\w*", "zur(?:u|ue)ckrufen",
           "anrufen", "telefonisch (?:erreichbar|melden|kontaktieren)", "melden sie sich telefonisch"),
    "fr": ("appelez-moi", "appelez moi", "me rappeler", "rappelez-moi", "rappelez moi", "me telephoner",
           "m'appeler", "un appel", "rappel telephonique", "par telephone"),
    "es": ("llam(?:e|a|en)me", "me (?:llame|llamen|llamais|llameis)", "llamarme",
           "me (?:puede|pueden|podeis|podrian|podria|podrias) llamar", "devolver(?:me)? la llamada",
           "una llamada", "por telefono", "contacten conmigo por telefono"),
}
# What a quantity counts when a customer orders or asks about several items: "20 units", "20 Stück".
QUANTITY_NOUNS: Lexicon = {
    "en": ("units?", "pieces?", "pcs", "items?", "devices?", "lamps?", "grinders?", "purifiers?", "speakers?",
           "heaters?", "pitchers?", "vacuums?", "filters?", "cartridges?", "machines?"),
    "de": ("stuck", "stueck", "stk", "exemplare", "einheiten", "gerate", "geraete", "lampen", "muhlen", "muehlen",
           "luftreiniger", "lautsprecher", "heizl(?:u|ue)fter", "heizger(?:a|ae)te", "wasserfilter", "kannen",
           "staubsauger", "filter", "kartuschen"),
    "fr": ("unites", "pieces", "exemplaires", "appareils", "lampes", "moulins", "purificateurs", "enceintes",
           "radiateurs", "chauffages", "carafes", "aspirateurs", "filtres", "cartouches"),
    "es": ("unidades", "piezas", "ejemplares", "aparatos", "equipos", "lamparas", "molinillos", "purificadores",
           "altavoces", "calefactores", "estufas", "jarras", "aspiradoras", "filtros", "cartuchos"),
}
