"""Word lists behind the QA pre-checks' tone and personalisation verdicts, per language (en, de, fr, es).

Fragments are regular expressions in the folded form `models.signals.fold` gives a text (lower case, accents
stripped, "ß" as "ss", curly apostrophes straight) and match whole words; `\\w*` extends a stem. They describe
how an agent's reply apologises, shows understanding, thanks, stays courteous or blames, not any one company.
"""

from __future__ import annotations

from models.lexicons import Lexicon

TONE_LANGUAGES = ("en", "de", "fr", "es")

APOLOGY: Lexicon = {
    "en": ("sorry", "apologi[sz]e[sd]?", "apologies", "apologi[sz]ing", "(?:we|i) regret", "regrettably",
           "excuse us"),
    "de": ("(?:es )?tut (?:mir|uns) (?:sehr |wirklich |aufrichtig )?leid", "entschuldig\\w*", "bedaure\\w*",
           "bedauern", "verzeihung", "verzeihen sie"),
    "fr": ("desolee?s?", "nous nous excusons", "je m'excuse", "excusez\\w*", "(?:toutes )?nos excuses",
           "veuillez (?:nous |m')excuser", "regrettons", "je regrette", "pardon"),
    "es": ("lo (?:siento|sentimos|lamento|lamentamos)", "sentimos", "lamentamos", "disculp\\w*", "perdon\\w*",
           "nuestras disculpas"),
}

EMPATHY: Lexicon = {
    "en": ("i (?:completely |fully |totally |really )?understand", "we (?:completely |fully )?understand",
           "understandabl[ey]", "i can (?:only )?imagine", "i can see (?:how|why|that)", "must be (?:so |very )?"
           "(?:frustrating|annoying|stressful|disappointing|worrying)", "frustrating", "i hear you",
           "that must have been", "thank you for your patience", "for your understanding", "(?:your )?frustration"),
    "de": ("ich verstehe", "verstehe ich", "wir verstehen", "verstandlich\\w*", "nachvollziehen", "nachvollziehbar",
           "ich kann mir (?:gut )?vorstellen", "argerlich\\w*", "aergerlich\\w*", "(?:ihre |fur ihre )?geduld",
           "(?:ihr |fur ihr )?verstandnis", "(?:ihre )?frustration", "arger", "aerger"),
    "fr": ("je comprends", "nous comprenons", "comprehensible", "j'imagine", "(?:tres |vraiment )?frustrant\\w*",
           "(?:votre )?patience", "(?:votre )?comprehension", "(?:votre )?frustration"),
    "es": ("(?:lo )?entiendo", "(?:lo )?entendemos", "comprendo", "comprendemos", "comprensible",
           "me imagino", "puedo imaginar", "(?:muy )?frustrante", "(?:su )?paciencia", "(?:su )?comprension",
           "(?:su )?frustracion"),
}

THANKS: Lexicon = {
    "en": ("thank you", "thanks", "many thanks", "appreciate\\w*", "grateful"),
    "de": ("danke\\w*", "vielen dank", "herzlichen dank", "besten dank", "bedanke\\w*"),
    "fr": ("merci", "(?:je|nous) vous remercions", "je vous remercie", "remercie\\w*"),
    "es": ("gracias", "(?:le|les|te) agradec\\w*", "agradec\\w*"),
}

COURTESY: Lexicon = {
    "en": ("please", "kind(?:est)? regards", "best regards", "best wishes", "warm regards",
           "(?:happy|glad|pleased) to help", "let (?:me|us) know", "feel free", "have a (?:lovely|nice|great) day"),
    "de": ("bitte", "gerne?", "mit freundlichen grussen", "freundliche grusse", "(?:viele|beste|liebe) grusse",
           "sehr geehrte[rn]?", "(?:einen )?schonen tag", "wir helfen (?:ihnen )?gern"),
    "fr": ("s'il vous plait", "(?:bien )?cordialement", "n'hesitez pas", "avec plaisir", "bonne journee",
           "veuillez agreer", "bien a vous"),
    "es": ("por favor", "(?:un )?saludos?(?: cordiales)?", "atentamente", "con (?:mucho )?gusto", "no dude en",
           "(?:quedamos|quedo) a su disposicion", "que tenga un buen dia"),
}

# Blame, dismissal and rudeness: any one of these makes the tone a concern.
BLAME: Lexicon = {
    "en": ("you should have", "you need to read", "as (?:i|we) (?:already |have already )?(?:said|told you|"
           "explained|mentioned)", "calm down", "not our (?:problem|fault|responsibility)", "your (?:own )?fault",
           "(?:there is )?nothing (?:i|we) can do", "obviously", "clearly you", "you failed to",
           "read the (?:manual|instructions|faq)", "we can'?t help you", "i can'?t help you",
           "that'?s (?:just )?(?:the|our) policy", "deal with it", "not (?:my|our) job", "for the last time",
           "stupid", "ridiculous", "nonsense"),
    "de": ("(?:das ist )?ihre (?:eigene )?schuld", "selbst schuld", "ihr fehler", "nicht unser(?:e)? "
           "(?:problem|schuld|sache)", "nicht mein problem", "wie (?:ich )?(?:bereits|schon) (?:gesagt|erwahnt|"
           "erklart|geschrieben)", "wie (?:ich )?(?:bereits|schon) sagte", "beruhigen sie sich",
           "(?:da )?(?:konnen|kann) (?:wir|ich) nichts (?:machen|tun)", "lesen sie (?:doch )?(?:die|das) "
           "(?:anleitung|handbuch|faq)", "offensichtlich", "sie hatten (?:eben|halt|doch)", "zum letzten mal",
           "unsinn", "blodsinn", "lacherlich"),
    "fr": ("(?:c'est )?(?:de )?votre (?:propre )?faute", "(?:ce n'est )?pas notre (?:probleme|faute)",
           "comme (?:je (?:l'ai|vous l'ai)|nous (?:l'avons|vous l'avons)) deja (?:dit|explique|indique)",
           "comme deja dit", "calmez-vous", "nous ne pouvons rien faire", "je ne peux rien faire",
           "lisez (?:le mode d'emploi|la notice|le manuel|la faq)", "evidemment", "pour la derniere fois",
           "ridicule", "n'importe quoi"),
    "es": ("(?:es )?(?:su|tu) culpa", "culpa suya", "(?:no es )?(?:nuestro|mi) problema",
           "como ya (?:le |te )?(?:dije|dijimos|explique|explicamos)",
           "calmese", "no podemos hacer nada", "no puedo hacer nada", "lea (?:el manual|las instrucciones)",
           "obviamente", "por ultima vez", "ridiculo", "tonteria"),
}

# Words every support reply uses whatever the customer wrote: sharing them shows nothing specific.
GENERIC: dict[str, frozenset[str]] = {
    "en": frozenset((
        "hello", "hi", "hey", "dear", "thanks", "thank", "please", "sorry", "apologise", "apologize", "apologies",
        "regards", "best", "kind", "wishes", "team", "support", "customer", "customers", "contact", "message",
        "messages", "email", "mail", "question", "questions", "issue", "issues", "problem", "problems", "help",
        "happy", "glad", "know", "need", "let", "get", "got", "look", "looking", "reach", "reaching", "assist",
        "assistance", "inconvenience", "understand", "hear", "great", "good", "day", "today", "soon", "possible",
        "able", "ticket", "reply", "write", "writing", "wrote", "service", "request", "thing", "things", "done")),
    "de": frozenset((
        "hallo", "guten", "tag", "liebe", "lieber", "sehr", "geehrte", "geehrter", "geehrten", "danke", "dank",
        "vielen", "bitte", "leid", "entschuldigung", "grüße", "grüßen", "freundlichen", "viele", "beste", "team",
        "kundenservice", "support", "kunde", "kundin", "nachricht", "anfrage", "frage", "fragen", "problem",
        "anliegen", "hilfe", "helfen", "gerne", "gern", "melden", "schreiben", "mail", "e-mail", "ticket",
        "unannehmlichkeiten", "verständnis", "geduld", "heute", "bald", "möglich")),
    "fr": frozenset((
        "bonjour", "madame", "monsieur", "cher", "chère", "merci", "désolé", "désolée", "excuses", "cordialement",
        "équipe", "service", "client", "cliente", "message", "demande", "question", "questions", "problème",
        "aide", "aider", "plaisir", "courriel", "mail", "ticket", "compréhension", "patience", "aujourd'hui",
        "bientôt", "possible", "journée", "bonne", "hésitez")),
    "es": frozenset((
        "hola", "estimado", "estimada", "buenos", "días", "gracias", "favor", "siento", "sentimos", "disculpas",
        "saludos", "atentamente", "equipo", "servicio", "cliente", "mensaje", "consulta", "solicitud", "pregunta",
        "problema", "ayuda", "ayudar", "gusto", "correo", "ticket", "comprensión", "paciencia", "hoy", "pronto",
        "posible", "dude", "disposición")),
}

# Words after which a capitalised German word is a name ("Frau Schneider", "Hallo Jonas"), not a noun.
NAME_CUES = frozenset(("herr", "herrn", "frau", "hallo", "hi", "liebe", "lieber", "tag", "geehrte", "geehrter",
                       "dr", "prof", "familie", "firma"))
# Parts of a full name that are no name by themselves ("María de la Cruz", "Dr. Anna von Berg").
NAME_PARTICLES = frozenset(("de", "da", "di", "du", "la", "le", "el", "van", "von", "der", "den", "del", "des", "dos",
                            "das", "los", "las", "les", "mr", "mrs", "ms", "dr", "prof", "herr", "frau", "sr", "sra",
                            "mme", "mlle"))
# Sign-offs after which the next capitalised words, on the same line or the next, are the writer's name.
SIGNOFF_CUES = frozenset(("grüße", "grüßen", "grüsse", "grüssen", "gruß", "gruss"))

# Month names for dates written in words ("24 November", "24. November", "24 novembre", "24 de noviembre").
MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"),
    "de": ("januar", "jänner", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "setiembre",
           "octubre", "noviembre", "diciembre"),
}

# Words that introduce an order number written without letters ("order 1045521", "Bestellung 1045521").
ORDER_WORDS = ("order", "orders", "bestellung", "bestellnummer", "auftrag", "auftragsnummer", "commande", "pedido",
               "número de pedido", "n° de commande")
