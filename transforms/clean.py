"""Cleaning one feed item: clean inline strings, and split an item's content into narrative and noise.

`clean_inline` normalises a title, an author name or a teaser headline. `extract` turns an item's content (an
HTML fragment, or a plain-text dump of a page such as the seed) into the article's own paragraphs plus the
page chrome it removed: photo credits, "More from ..." teasers and the section label. Both are pure functions
of their arguments; the Beam composite `CleanArticles` only adapts them.

Every content rule lives in `RULES`, one declarative table (name, kind, compiled regex, longest block it
may match), matched against whole, already-normalised blocks (`fullmatch`), so that a narrative sentence
that merely mentions "Read more" or AFP is never touched. The regexes further down (`_TAG`, `_BLANK_LINE`,
...) describe markup and layout, not content, and are not rules.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import html
import importlib.resources
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

import apache_beam as beam
import ftfy
import yaml
from apache_beam.metrics import Metrics
from lxml import etree

from newsbeam.transforms.clean_model import load_model
from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs, StageFn, StageOutput
from newsbeam.transforms.dedup import canonical_url, make_article_id, registered_domain
from newsbeam.transforms.neardup import folded_words
from newsbeam.transforms.records import Article, RawEntry, RelatedItem, RuleSpec, SiteRules

# --------------------------------------------------------------------------------------------------------
# The rule table
# --------------------------------------------------------------------------------------------------------
# Kinds:
#   credit           a photo / agency credit line: the `credit` group (or the whole block) goes to `credits`
#   related_heading  starts a teaser block ("More from X", "Related", ...); `section` group sets `section`
#   related_link     a one-line teaser ("Read more: headline"): the `title` group goes to `related`
#   boilerplate      page chrome dropped outright (share / newsletter / app prompts, ads, bylines, sign-offs)
#   section_label    a lone section label; only ever applied to the last block(s) of the body
#   end_note         a note that closes the item (an author's note); only ever the last block(s) of the body
#   noise_class      an HTML class / id token whose element is chrome: its whole subtree is skipped
#   credit_class     an HTML class / id token whose element holds a photo credit
#   related_class    an HTML class / id token whose element is a teaser container (no heading needed)
#   caption_class    an HTML class / id token whose element is a photo caption (outside any <figure>)
# Block rules are tried in table order and the first match wins, so a credit is recognised before the
# agency sign-off rules could claim it.


class Rule(NamedTuple):
    name: str
    kind: str
    pattern: re.Pattern[str]
    max_len: int  # longer blocks are never tested: chrome is short, narrative is not


# Building blocks shared by several rules (plain strings, composed once at import). Name tokens use
# possessive quantifiers (*+): a token never gives characters back, which keeps a failed match linear.
_AGENCY = (
    r"(?:AFP|Reuters|REUTERS|AP|The Associated Press|Associated Press|EPA(?:-EFE)?|EFE|Getty Images|Getty"
    r"|Anadolu(?: Agency)?|Xinhua|Bloomberg|SOPA Images|NurPhoto|Shutterstock|Alamy"
    r"|PA(?: Images| Wire| Media)?|ANP|DPA|dpa|Sipa(?: USA)?|AAP|Kyodo|Yonhap|TASS|Sputnik|WANA"
    r"|ZUMA(?: Press| Wire)?|Zuma(?: Press)?|IANS|PTI|ANI|UPI|Pool|POOL"
    # national agencies of other countries, as they sign photos
    r"|ANSA|Ansa|NTB|Lusa|LUSA|MAP|APS|Bernama|BERNAMA|Antara|ANTARA|PAP|AGI|Prensa Latina|Télam"
    r"|WAM|SPA|QNA|KUNA|IRNA|Tasnim|MENA|NAN|KNA|Flash90|FLASH90|Imago|IMAGO|Keystone|KEYSTONE)"
)
_PARTICLE = r"(?:de|da|di|del|van|von|der|al|el|bin|le|la)"
_NAME_WORD = r"[A-Z][\w'’.\-]*+"
_NAME = rf"{_NAME_WORD}(?: (?:{_NAME_WORD}|{_PARTICLE}(?:-{_NAME_WORD})?)){{0,4}}"
_NAMES = rf"{_NAME}(?:(?:, and |, | and | & ){_NAME})*"
# names each with an optional place: "Tom Daly in Beijing and Eric Onstad in London"
_PLACED_NAME = rf"{_NAME}(?: in {_NAME})?"
_PLACED_NAMES = rf"{_PLACED_NAME}(?:(?:, and |, | and | & ){_PLACED_NAME})*"
_UPPER_NAME = r"[A-Z][A-Z'’.\-]++(?: [A-Z][A-Z'’.\-]++){0,4}"
_TITLE_WORD = r"[A-Z][\w'’\-]*+"
# An all-capitals name in Latin scripts with accents ("ÉDOUARD PLANTE-FRÉCHETTE, ARCHIVES LE MATINAL")
_CAPS = "A-ZÀ-ÖØ-Þ"
_UPPER_WORDS = rf"[{_CAPS}][{_CAPS}'’.\-]*+(?: [{_CAPS}][{_CAPS}'’.\-]*+){{0,5}}"
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)[a-z]*\.?,? "
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = (
    rf"(?:{_WEEKDAY})?(?:\d{{1,2}}{_ORDINAL} {_MONTH},? \d{{4}}|{_MONTH} \d{{1,2}}{_ORDINAL},? \d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4})"
)
_TIME = r"(?:\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?(?: [A-Z]{2,5}| GMT[+-]\d{1,2})?)"
_STAMP = (
    r"(?:(?:Published|Updated|Posted|Last updated|First published|Last modified)(?: on| at)?:? )?"
    rf"(?:{_DATE}(?:,? (?:at |- |– )?{_TIME})?|{_TIME}(?:,? {_DATE})?"
    r"|\d+ (?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?) ago)"
)
_PLATFORM = (
    r"(?:Facebook|Twitter|X|WhatsApp|Telegram|Instagram|TikTok|YouTube|LinkedIn|Threads|Bluesky"
    r"|Google News|Snapchat|Flipboard|Reddit)"
)
_SHARE_TOKEN = (
    r"(?:Share(?: this(?: article| story| page| post)?| on| via| with)?|Tweet|Email|E-mail|Print"
    r"|Copy link|Link copied|Save(?: article)?|Facebook|Twitter|X|WhatsApp|LinkedIn|Reddit|Telegram"
    r"|Messenger|Pinterest|Flipboard|Bluesky|Threads|Comments?)"
)
_SECTION_WORD = (
    r"(?:News|Sport|Sports|World|Business|Politics|Tech|Technology|Science|Health|Culture|Arts"
    r"|Entertainment|Lifestyle|Style|Travel|Opinion|Comment|Analysis|Features?|Money|Finance|Economy"
    r"|Markets|Climate|Environment|Education|Weather|Video|Videos|Live|Media|Football|Cricket|Tennis"
    r"|Rugby|Golf|Motoring|Food|Books|Music|Film|Television|TV|Fashion|Property|Law|Crime|Society"
    r"|Religion|Africa|Asia|Europe|Americas|Middle East|Latin America|Asia Pacific|Australia|UK|US"
    r"|Global|International|National|Local|Regional|Top Stories|Breaking|Latest)"
)
_BYLINE_WORD = (
    r"(?:and|of|in|for|the|at|&|correspondent|editor|reporter|writer|journalist|analyst|producer|staff"
    r"|news|affairs|political|diplomatic|security|chief|senior|international|global|business)"
)
_JOURNALIST = (
    r"(?:writers?|reporters?|correspondents?|journalists?|staff|producers?|AP|Reuters|AFP|Associated Press"
    r"|Agence France-Presse|Bloomberg|agencies)"
)
_CREDIT_ROLE = (
    r"(?:(?:Additional )?[Rr]eporting|[Ww]riting|[Ee]dit(?:ing|ed)|(?:[Ss]ub|[Cc]opy)-edit(?:ing|ed)"
    r"|[Cc]ompiled"
    r"|[Pp]roduced|[Gg]raphics|[Tt]ranslat(?:ed|ion)|[Ff]act-check(?:ed|ing)|[Vv]erifi(?:ed|cation)"
    r"|[Ii]llustrat(?:ed|ions)|[Pp]hotographed|[Ff]ilmed)"
)
# who made a podcast episode or a video, as its notes credit them: "Produced by X. Sound by Y.",
# "Producer: X", "Réalisation : X", "Produziert von X" (the verb forms, then the labels)
_PRODUCTION_ROLE = (
    r"(?:Produced|Co-produced|Executive produced|Hosted|Presented|Narrated|Mixed|Mastered|Engineered|Recorded"
    r"|Edited|Directed|Sound(?: design(?:ed)?)?|Audio|Music|Theme music|Original music|Artwork"
    r"|Research(?:ed)?"
    r"|Producido|Realizado|Editado|Mezclado|Presentado|Conducido|Produit|Réalisé|Présenté|Mixé|Monté"
    r"|Produziert|Moderiert|Gemischt|Geschnitten|Präsentiert|Prodotto|Realizzato|Condotto|Presentato|Montato"
    r"|Produzido|Apresentado|Mixado)(?: (?:and|&|y|et|und|e) [a-zà-ÿ]+)? (?:by|por|par|von|da)"
)
_PRODUCTION_LABEL = (
    r"(?:Producers?|Executive producers?|Hosts?|Presenters?|Sound(?: design| engineer(?:ing)?)?|Audio|Mixing"
    r"|Music|Artwork|Producción|Productor(?:a|es)?|Sonido|Música|Montaje|Realización|Presentación|Production"
    r"|Producteur|Productrice|Son|Musique|Réalisation|Montage|Présentation|Produktion|Ton|Musik|Schnitt"
    r"|Moderation|Regie|Produzione|Suono|Musica|Montaggio|Regia|Conduzione|Produção|Produtora?|Som|Edição"
    r"|Realização|Apresentação) ?:"
)
_PHOTO_WORD = (
    r"(?:Photograph|Photographs|Photo|Photos|Picture|Pictures|Image|Images|Illustration|Photo illustration"
    r"|Photo [Cc]redit|Image [Cc]redit|Picture [Cc]redit|Credit|Credits|File|File photo|Foto|Fotos"
    r"|Fotografía|Bild|Photographie"
    # in capitals ("PHOTO: Screengrab from TikTok"), and the other pictures a caption credits
    r"|PHOTO|PHOTOS|FOTO|FOTOS|IMAGE|Pic|Pics|PIC|Visualisierung|Visualization|Rendering|Grafik|Graphic"
    r"|Infografik"
    r"|Infographic|Infografía|Ilustración|Illustrazione|Ilustração)"
)
_CREDIT_PART = rf"(?:{_UPPER_NAME}|{_NAME})"
# "Read also" and its kin, in the languages of the bundled samples and name lists
_READ_ALSO = (
    r"read more|also read|read also|read|see also|related(?: article| story)?|recommended|more"
    r"|lee también|leé también|lea también|ver también|te puede interesar|le puede interesar"
    r"|leia também|leia mais|veja também|lire aussi|à lire aussi|a lire aussi|voir aussi"
    r"|lesen sie auch|mehr zum thema|siehe auch|leggi anche|mirá también|mira también|te recomendamos"
)
# "comments" in the languages of the other rules
_COMMENTS = r"(?:comments?|comentarios?|comentários?|commentaires?|kommentare?|commenti|commento)"
_JOB = r"(?:reporter|correspondent|writer|contributor|editor|journalist|staff writer|staff reporter)"
# a publication's name, as an author's note ends with it: "for The Daily Ledger", "at the Irish Times"
_OUTLET = rf"{_TITLE_WORD}(?: (?:{_TITLE_WORD}|of|the|and|&)){{0,5}}"
# what reported speech says of who spoke
_SAID = (
    r"(?:said|says|told|asked|wrote|according to|dijo|dice|afirmó|declaró|escribió|a déclaré|a dit|dit"
    r"|sagte|sagt|erklärte|schrieb|ha detto|dice|disse|diz|afirmou|escreveu)"
)
# a donation ask: "If you value local news, make a gift today.", "Faites un don", "Jetzt spenden"
_DONATION_ASK = (
    r"(?:If you (?:value|like|enjoy|appreciate|rely on|believe in)[^.!?]{1,100}, )?(?:please )?"
    r"(?:[Mm]ake a (?:gift|donation|contribution)|[Dd]onate(?: now| today| here| to)|[Cc]hip in"
    r"|[Ss]upport (?:us|our (?:work|journalism|reporting|newsroom)"
    r"|(?:local|independent|public|nonprofit|non-profit) (?:news|journalism|media|radio|reporting))"
    r"|[Bb]ecome a (?:member|supporter|patron|sustaining member)"
    r"|Haz una donación|Dona (?:ahora|hoy)|Apoya (?:el|nuestro) periodismo|Faites un don|Soutenez-nous"
    r"|Soutenez (?:notre|le) journalisme|Jetzt spenden|Unterstützen Sie (?:uns|unseren|unabhängigen)"
    r"|Fai una donazione|Sostieni (?:il nostro|l'informazione|il giornalismo)|Faça uma doação"
    r"|Apoie (?:o|o nosso) jornalismo"
    # what a gift does, said to the reader: "Your gift can help us treat ...", "Votre don peut aider ..."
    r"|Your (?:gift|donation|support|contribution)(?: of [^\s.!?]{1,15}(?: (?:a|per|each|every) month)?)?"
    r" (?:can|will|could|would) (?:help|make|keep|fund|protect|provide|buy|pay|give|save|feed|train|bring"
    r"|support|send|cover)"
    # membership: "Become a member today", "Hazte socio", "Devenez membre", "Werden Sie Mitglied"
    r"|Join (?:us |today )?(?:as a (?:member|supporter|donor))|Give (?:now|today|monthly)"
    r"|(?:Hazte|Hágase|Hacete) (?:socio|socia|miembro|donante|suscriptor)|Devenez (?:membre|donateur"
    r"|donatrice"
    r"|abonné)|Adhérez|Werden Sie (?:Mitglied|Unterstützer|Förderer|Fördermitglied)|Diventa (?:socio|socia"
    r"|sostenitore|sostenitrice|membro)|(?:Torne-se|Seja) (?:membro|sócio|sócia|apoiador|apoiadora|assinante)"
    r"|Tu (?:donación|aporte|contribución) (?:puede|podría|ayuda)|Votre (?:don|soutien) (?:peut|permet|aide)"
    r"|Ihre (?:Spende|Unterstützung) (?:kann|hilft|ermöglicht)|(?:La tua|Una) donazione (?:può|aiuta)"
    r"|Il tuo (?:contributo|sostegno) (?:può|aiuta)|(?:Sua|A sua) doação (?:pode|ajuda))\b"
    # (in which nobody is reported to speak: "Your gift of $5,000 will fund a ward, the dean told donors.")
    rf"(?![^.!?]*\b{_SAID}\b)[^.!?]{{0,120}}[.!]?"
)
# whom an outlet's appeal says it lives on, addressing the reader: "listeners like you", "lecteurs comme vous"
_SUPPORTERS_LIKE_YOU = (
    r"(?:listeners|readers|viewers|members|supporters|donors|people|subscribers) like you"
    r"|(?:lectores|oyentes|socios|suscriptores|donantes|personas) como (?:tú|usted|vos|ustedes)"
    r"|(?:lecteurs|auditeurs|membres|abonnés|donateurs|lectrices) comme vous"
    r"|(?:Leser|Hörer|Mitglieder|Unterstützer|Spender)\w* wie (?:Ihnen|Sie|dir|dich|euch)"
    r"|(?:lettori|ascoltatori|soci|sostenitori|abbonati) come (?:te|voi)"
    r"|(?:leitores|ouvintes|assinantes|apoiadores|doadores) como (?:você|vocês|tu)"
)
# what a promotional prompt starts with: the imperative that addresses the reader, in en/es/fr/de/it/pt
_READER_VERB = (
    r"(?:Send|Email|E-mail|Message|Call|Contact|Tell|Write|Download|Get|Install|Listen|Subscribe|Follow|Join"
    r"|Like|Watch|Find|Search|Tune|Report|Submit|Sign|Visit|Check|Never|Stay|Don't"
    r"|Envíanos|Escríbenos|Descarga|Descargue|Escucha|Escuche|Síguenos|Sigue|Suscríbete|Únete|Contáctanos"
    r"|Denuncia|Reporta|Avísanos|Mándanos"
    r"|Envoyez|Écrivez|Téléchargez|Écoutez|Suivez|Abonnez|Rejoignez|Contactez|Signalez|Retrouvez"
    r"|Jetzt|Melden|Schreiben|Laden|Hören|Folgen|Abonnieren|Schicken|Senden|Kontaktieren"
    r"|Scarica|Ascolta|Seguici|Segui|Iscriviti|Scrivici|Inviaci|Segnala|Contattaci"
    r"|Baixe|Ouça|Siga|Inscreva|Assine|Envie|Escreva|Fale|Mande)"
)
# where such a prompt sends the reader: an app, a podcast, a network, email, the outlet itself ("us"; not
# "our" alone: "Get out of our country, the protesters chanted.")
_READER_CHANNEL = (
    r"(?i:apps?|application|aplicación|aplicativo|podcasts?|newsletters?|feeds?|rss|facebook|x|twitter"
    r"|instagram|whatsapp|telegram|tiktok|youtube|linkedin|threads|bluesky|e-?mail|inbox|tips?|tipline|us"
    r"|nous|uns|melden)"
)
# a character inside one sentence: a dot in an address or a number ends none ("news@x.example", "6.6")
_IN_SENTENCE = r"(?:[^.!?]|\.(?=\w))"
# "All rights reserved" as the languages of the bundled samples say it
_RESERVED = (
    r"(?:all rights reserved|riproduzione riservata|tous droits réservés|todos los derechos reservados"
    r"|alle rechte vorbehalten|(?:todos os )?direitos reservados)"
)


def _rule(name: str, kind: str, max_len: int, pattern: str) -> Rule:
    return Rule(name, kind, re.compile(pattern), max_len)


# fmt: off
RULES: tuple[Rule, ...] = (
    # -- credits ----------------------------------------------------------------------------------------
    # (a byline with a job title first: "Jane Doe/Staff Reporter" is not a "Name/Agency" credit)
    _rule("byline_role", "boilerplate", 120,
          rf"(?:{_NAMES} ?(?:/|,|-|–|—|\|)? ?)?(?:{_TITLE_WORD} ){{0,2}}(?i:{_JOB})"
          rf"(?: ?[,|·•] ?{_TITLE_WORD}(?: {_TITLE_WORD}){{0,2}})?"),
    # a newsroom's byline with the agency it rewrote: "Redacción / EFE", "Redaktion/dpa" (no picture's credit)
    _rule("newsroom_agency", "boilerplate", 80,
          rf"(?i:redacción|redação|rédaction|redaktion|redazione|newsroom|staff|agencias|agences|agenturen"
          rf"|agenzie|agências|agencies)(?: \w+)? ?/ ?{_AGENCY}(?: ?/ ?{_AGENCY})*"),
    _rule("credit_prefixed", "credit", 140,
          rf"[(\[]?©? ?{_PHOTO_WORD} ?(?::|\.\.\.|…| ©) ?(?P<credit>[^\s()\[\]].{{0,118}}?)\.?[)\]]?\.?"),
    _rule("credit_copyright_sign", "credit", 120,
          rf"\(?©\s*(?!\d{{4}}\b)(?!(?i:all rights|copyright|{_RESERVED}))"
          r"(?P<credit>[^\s©()][^©()]{1,89}?)\.?\)?"),
    # "PHOTO ROBERT SKINNER, LA PRESSE": Quebec and French dailies sign in capitals, without a colon
    _rule("credit_photo_caps", "credit", 120,
          rf"(?:PHOTO|PHOTOS|FOTO|FOTOS|PHOTOGRAPHIE|ILLUSTRATION)"
          rf" (?P<credit>{_UPPER_WORDS}(?:, {_UPPER_WORDS})?)"),
    # "(foto Ansa)", "(Photo Jane Doe)": a photo word and a name, alone in brackets
    _rule("credit_bracketed_photo", "credit", 100,
          r"[(\[](?i:photo|foto|ph|pic|picture|image|bild)\.? (?!(?i:by|credit|courtesy|of)\b)"
          r"(?P<credit>[^()\[\]\s:][^()\[\]:]{1,80}?)[)\]]\.?"),
    # "Photo courtesy of the Greaves family", "(Image courtesy Acme Corp)"
    _rule("credit_courtesy", "credit", 140,
          r"[(\[]?(?:Photo|Photos|Image|Images|Picture|Pictures|Foto|Fotos)"
          r" (?P<credit>(?:courtesy|cortesía|cortesia|avec l'aimable autorisation)(?: of| de"
          r"| di)? [^()\[\]]{2,100}?)"
          r"\.?[)\]]?\.?"),
    _rule("credit_courtesy_bracketed", "credit", 120,
          r"[(\[](?P<credit>(?:Courtesy|courtesy|Cortesía|cortesía|Cortesia|cortesia"
          r"|Avec l'aimable autorisation|Mit freundlicher Genehmigung)"
          r"(?: of| de| di| von)? [^()\[\]]{2,90}?)\.?[)\]]\.?"),
    _rule("credit_image_source", "credit", 140, r"Image source, (?P<credit>\S.{0,118}?)\.?"),
    _rule("credit_photo_by", "credit", 140,
          r"\(?(?:Photo|Photograph|Picture|Image|Photos|Pictures)(?: and video)? by"
          r" (?P<credit>[^()]{2,120}?)\.?\)?\.?"),
    # "Photo provided by Coconino National Forest", "Foto cedida por X", "Photo fournie par X", "Foto zur
    # Verfügung gestellt von X", "Foto fornita da X", "Foto cedida pela X"
    _rule("credit_provided_by", "credit", 120,
          r"\(?(?:Photo|Photos|Image|Images|Picture|Pictures|Foto|Fotos|Imagen|Imagem|Bild|Bilder)"
          r" (?:provided|supplied|submitted|contributed|cedida|cedidas|proporcionada|facilitada|fournie"
          r"|transmise|fornita|concessa|fornecida|zur Verfügung gestellt|bereitgestellt)"
          r" (?:by|por|pela|pelo|par|von|da|dal|dalla) (?P<credit>[^()]{2,120}?)\.?\)?\.?"),
    _rule("credit_name_agency", "credit", 120,
          rf"(?P<credit>(?:{_UPPER_NAME}|{_NAME}) ?/ ?{_AGENCY}(?: ?/ ?{_AGENCY})*(?: via {_AGENCY})?"
          rf"|{_UPPER_NAME} ?/ ?{_UPPER_NAME}(?: via {_AGENCY})?"
          rf"|{_AGENCY} ?/ ?{_NAME}(?: via {_AGENCY})?)"),
    _rule("credit_name_slash_name", "credit", 120,
          rf"[(\[]?(?P<credit>{_CREDIT_PART} ?/ ?{_CREDIT_PART}(?: ?/ ?{_CREDIT_PART})*(?: via {_AGENCY})?)"
          r"[)\]]?\.?"),
    _rule("credit_photo_suffix", "credit", 80,
          rf"(?P<credit>{_NAME_WORD}(?: {_NAME_WORD}){{0,3}} (?:Photo|Photos|Picture|Pictures)"
          rf"(?: by {_NAME})?)"),
    _rule("credit_bare_agency", "credit", 60, rf"(?P<credit>{_AGENCY}(?: via {_AGENCY})?)"),
    # -- teaser blocks ----------------------------------------------------------------------------------
    _rule("related_more_from", "related_heading", 80,
          r"(?i:more from|más noticias de|mais notícias de|plus d'actualités|mehr aus|altre notizie di)"
          r" (?P<section>[A-ZÀ-Þ][\w'’&\-]*+(?: [\w'’&\-]++){0,4}) ?:?"),
    _rule("related_heading", "related_heading", 40,
          r"(?i:related(?: (?:stories|story|articles|article|content|coverage|news|links|reading|posts|videos"
          r"))?|read more|more on this (?:story|topic)|more stories|more news"
          r"|most (?:read|popular|viewed|shared|watched)|you (?:may|might) also (?:like|be interested in)"
          r"|recommended(?: for you| stories| reading)?|top stories|also read|read also|read next|see also"
          r"|further reading|editor['’]s picks|trending(?: now)?|what to read next|popular(?: now)?"
          rf"|more {_SECTION_WORD}|more [\w'’\-]++(?: [\w'’\-]++)? (?:news|stories|headlines)"
          r"|más información|mais informações|maggiori informazioni|más noticias|mais notícias"
          r"|mehr zum thema|lesen sie auch|das könnte sie auch interessieren|lire aussi|à lire aussi"
          r"|a lire aussi|sur le même sujet|lee también|leé también|ver también|te puede interesar"
          r"|noticias relacionadas|leia também|veja também|notícias relacionadas|leggi anche"
          # most-read lists and "you may like" in es / pt / fr / de / it
          r"|lo más (?:leído|visto|popular)|(?:las |los )?más (?:leídas|leídos|vistas|vistos)"
          r"|artículos relacionados|también te puede interesar|les plus (?:lus|populaires|partagés)"
          r"|à lire également|articles (?:liés|similaires)|vous aimerez aussi|meistgelesen(?:e artikel)?"
          r"|am meisten gelesen|das könnte sie interessieren|ähnliche artikel|weitere artikel"
          r"|(?:ti )?potrebbe(?:ro)? interessarti|ti potrebbe interessare|articoli correlati"
          r"|notizie correlate"
          r"|(?:i )?più letti|vedi anche|(?:as |os )?mais (?:lidas|lidos|vistas|vistos)|artigos relacionados"
          r"|(?:você )?(?:também )?pode (?:gostar|interessar)"
          # "Latest News", "More for You", "Te recomendamos", "À voir aussi", "Wir empfehlen"
          r"|latest (?:news|stories|headlines|articles)|more for you|more to (?:read|explore)"
          r"|(?:te|le|les) recomendamos|mirá también|mira también|(?:à |a )?voir aussi|à voir également"
          r"|nous vous recommandons|wir empfehlen(?: ihnen)?|ti consigliamo|recomendamos para você) ?:?"),
    _rule("tag_heading", "tag_heading", 40,
          r"(?i:related topics|topics|tags|explore more on these topics|more on these topics|keywords"
          r"|related (?:internet|external|web) links|external links|useful links"
          r"|themen|sujets|temas|etiquetas|tópicos|argomenti) ?:?"),
    # a news aggregator's teaser line: "Headline Outlet Name · 2 days ago" (the outlet: up to four capitalised
    # words before the stamp), in the languages of the gold set
    _rule("aggregator_teaser", "related_link", 300,
          r"(?=[^·•|]{10,200}+[·•|])"
          r"(?P<title>[^\s·•|]++(?: [^\s·•|]++){3,30}?) (?:(?:[A-Z][\w'’&.\-]*+|of|the|de|du|des|la|el"
          r"|di) ){0,3}"
          r"[A-Z][\w'’&.\-]*+ ?[·•|] ?"
          r"(?:\d{1,2} ?(?:min|mins|minutes?|h|hours?|hrs?|days?|d|weeks?) ago"
          r"|il y a \d{1,2} (?:min|minutes?|h|heures?|jours?)|hace \d{1,2} (?:min|minutos?|h|horas?|días?)"
          r"|vor \d{1,2} (?:Min\.?|Minuten|Std\.?|Stunden?|Tagen?)|há \d{1,2} (?:min|minutos?|h|horas?|dias?)"
          r"|\d{1,2} (?:minuti|ore|giorni) fa)\b.{0,200}"),
    _rule("related_link", "related_link", 240,
          rf"(?i:{_READ_ALSO}) ?: ?(?P<title>\S.{{2,200}})"),
    # -- boilerplate ------------------------------------------------------------------------------------
    _rule("advertisement", "boilerplate", 60,
          r"(?i:advertisement|advertising|ad|sponsored(?: content)?|paid (?:content|post|partner content)"
          r"|skip advertisement|(?:story|article) continues below(?: this)? (?:advertisement|advert)"
          r"|continue reading the main story|scroll to continue(?: with content)?"
          r"|advertisement ?[·•\-] ?scroll to continue"
          # the same slot label in es / pt / fr / de / it ("Anzeige" alone: "Anzeige erstattet hat" is news)
          r"|publicidad|publicidade|publicité|anzeige|werbung|pubblicità|contenido patrocinado"
          r"|conteúdo patrocinado|contenu sponsorisé|gesponsert|contenuto sponsorizzato)"),
    _rule("supported_by", "boilerplate", 20, r"(?i:supported by)"),
    _rule("share_prompt", "boilerplate", 200,
          rf"{_SHARE_TOKEN}(?: Count| \d[\d,.]*[kK]?)?(?:(?: ?[|,/•·:] ?| ){_SHARE_TOKEN}(?: Count)?)* ?:?"),
    # blog platforms' widgets (WordPress/Jetpack, Blogger, Medium, Ghost, Substack): "Like this:", "Like
    # Loading...", 'In "National"' (a related post's category), "Email This BlogThis!", "Share to X",
    # "Be the first to like this.", "Loading...", "Posted in News", "Bookmark the permalink."
    _rule("blog_widget", "boilerplate", 120,
          r"(?:Like|Like this|Liked by \d+ (?:people|bloggers?)|Like Loading|Loading|Cargando|Chargement"
          r"|Wird geladen|Caricamento|Carregando|Me gusta|J'aime|Gefällt mir|Mi piace|Curtir|Gostar)"
          r"(?: ?:| ?\.\.\.| ?…)"
          r"|(?:Like|Me gusta|J'aime|Gefällt mir|Mi piace|Curtir) (?:Loading|Cargando|Chargement|Wird geladen"
          r"|Caricamento|Carregando) ?(?:\.\.\.|…)"
          r"|Be the first to like this\.?|\d+ (?:bloggers?|people) likes? this\.?"
          r"|(?:In|En|Dans|Em|Su) [\"“«„] ?[^\"“”«»„]{1,40}? ?[\"”»“]"
          r"|(?:Email This|BlogThis!|Share to (?:X|Twitter|Facebook|Pinterest|Threads|LinkedIn))"
          r"(?: ?(?:Email This|BlogThis!|Share to (?:X|Twitter|Facebook|Pinterest|Threads|LinkedIn)))*"
          r"|Bookmark the permalink\.?|(?:Posted|Filed) in [A-Z][\w'’ &,\-]{0,60}?(?: by [^.]{1,40})?\.?"
          r"|(?:Share this post|Copy link|Subscribe to [A-Z][^.!?]{0,40})"
          r"|\d+ (?:claps?|likes?|restacks?|shares?)|Read more »"),
    _rule("share_prompt_phrase", "boilerplate", 80,
          r"(?i:(?:kindly |please )?(?:share|comment on)(?: (?:or|and|&) (?:share|comment on))?"
          r" (?:this|the|our) (?:story|article|post|page|news)(?: on \w+| with .{1,30})?"
          r"|social sharing|share this|compart(?:ir|e|a|ilhe)(?: (?:en|no|esta|este|la) .{1,30})?"
          r"|partilh(?:e|ar)(?: esta notícia| este artigo| nas redes)?|partager(?: sur \w+| cet article)?"
          r"|(?:artikel |beitrag )?teilen|condividi(?: su \w+)?"
          r"|(?:[^\w\s]{1,3} ?)?pin (?:it|this)(?: for later| now| on pinterest)?)[.!:]?"),
    _rule("newsletter_prompt", "boilerplate", 400,
          r"(?:Sign up|Sign-up|Subscribe|Get|Join)\b[^.!?]{0,120}?"
          r"\b(?i:newsletters?|e-?mails?|alerts|briefing|inbox)\b.{0,150}"
          r"|(?i:(?:(?:daily|weekly|free|morning|evening|our|the) )?newsletters?(?: sign-?up)?|sign up"
          r"|subscribe(?: now| here| today)?)[.!]?"
          r"|(?=(?s:.*)(?:Sign up|Subscribe))[^.!?]{0,200}[.!?:] (?:Sign up|Subscribe)\b[^.]{0,150}?"
          r"\b(?i:newsletters?|inbox|e-?mails?)\b.{0,80}"
          r"|Privacy Notice: Newsletters may contain .{0,300}"
          r"|(?:[^.!?]{0,60}+[.!?] )?(?:Choose|Pick|Select|Browse|Explore|Discover|Check out|See)"
          r" (?:from |all )?(?:our|one of our)\b[^.!?]{0,60}\b(?i:newsletters?)\b[^.!?]{0,150}[.!?]?"
          # the same invitation in es / pt / fr / de / it
          r"|(?:Iscriviti|Inscrivez-vous|Abonnez-vous|Suscr[ií]bete|Suscribite|Reg[ií]strate|Assine"
          r"|Inscreva-se|Abonnieren Sie|Melden Sie sich)\b[^.!?]{0,60}?"
          r"\b(?i:newsletters?|bolet[ií]n|infolettre)\b.{0,150}"
          # a label and its pitch: "Newsletter : recevez chaque matin l'essentiel", "Boletín: recibe ..."
          r"|(?:Newsletters?|NEWSLETTERS?|Boletín|Boletim|Infolettre|Lettre d'information) ?: ?"
          r"[^.!?]{1,200}[.!]?"),
    # "Subscribe here for more.", "New here? Sign up for free."; a lead-in only when it is a question
    _rule("subscribe_here", "boilerplate", 160,
          r"(?:[^.!?]{1,60}\? )?(?:Subscribe|Sign up)(?: here| now| today| for free)"
          r"(?: (?:for|to) [^.!?]{1,80})?[.!]?"),
    # the lines around an email edition of a newsletter
    _rule("email_chrome", "boilerplate", 300,
          r"(?:Forwarded this (?:email|newsletter)|Was this (?:email|newsletter) forwarded to you"
          r"|Did (?:someone|a friend) forward (?:you )?this(?: email| newsletter)?(?: to you)?)\?"
          r"(?: [^.!?]{1,100}[.!]?)?"
          r"|You(?: are|'re)? receiv(?:ed|ing) this (?:email|e-mail|newsletter|message) because .{1,250}"
          r"|(?:View (?:this email |it )?(?:in (?:your |a )?browser|online)|Unsubscribe"
          r"|Manage (?:your )?(?:preferences|subscriptions?|email settings)|Update (?:your )?preferences)"
          r"(?: ?[·|•] ?(?:View in browser|Unsubscribe|Manage (?:your )?(?:preferences|subscriptions?)"
          r"|Update (?:your )?preferences))*"),
    # "... delivered straight to your inbox": one sentence that promises mail is a newsletter pitch
    _rule("inbox_prompt", "boilerplate", 260,
          r"(?=[^.!?]*+[.!]?\Z)(?=(?s:.*)(?:inbox|e-?mail|bandeja|correo|boîte|Postfach|Posteingang|casella"
          r"|caixa))(?:"
          r"[^.!?]{0,180}\b(?:delivered|sent|straight|direct(?:ly)?|right)(?: straight| directly)?"
          r" (?:to|into|in) your (?:inbox|e-?mail)\b[^.!?]{0,80}[.!]?"
          r"|[^.!?]{0,180}\b(?:directamente )?en tu (?:bandeja de entrada|correo)\b[^.!?]{0,80}[.!]?"
          r"|[^.!?]{0,180}\bdans votre boîte (?:mail|e-mail|de réception|aux lettres)\b[^.!?]{0,80}[.!]?"
          r"|[^.!?]{0,180}\b(?:direkt )?in Ihr(?:en)? (?:Postfach|Posteingang)\b[^.!?]{0,80}[.!]?"
          r"|[^.!?]{0,180}\b(?:direttamente )?nella tua (?:casella(?: di posta)?|email"
          r"|inbox)\b[^.!?]{0,80}[.!]?"
          r"|[^.!?]{0,180}\b(?:direto|diretamente) (?:no|na) (?:seu|sua) (?:e-mail"
          r"|caixa de entrada)\b[^.!?]{0,80}"
          r"[.!]?)"),
    _rule("stay_updated", "boilerplate", 90,
          r"Stay (?:updated|informed|up[ -]to[ -]date|in the (?:loop|know)|connected|tuned)"
          r"(?: (?:with|on|about|for) [^.!?]{1,60})?[.!]?"),
    # reader-supported newsletters and blogs asking for subscribers
    _rule("support_prompt", "boilerplate", 300,
          r"(?:Thanks|Thank you) for reading"
          r"(?: [A-Z][^.!?]{0,60}| this (?:post|newsletter|edition|issue))?[.!]"
          r"(?: [^.!?]{0,200}[.!?]?)?"
          r"|(?=(?s:.*)reader-supported)"
          r"[^.!?]{1,80} is a reader-supported (?:publication|newsletter|site|blog)\b.{0,250}"
          r"|(?:Subscribe|Sign up)(?: for free| now)? to (?:receive|get) new posts\b.{0,200}"),
    # donation pitches: "KTVR is listener-supported. If you value local news, make a gift today."
    _rule("donation_prompt", "boilerplate", 300,
          # the self-description, maybe followed by the ask: "KTVR is listener-supported.", "High Desert Radio
          # depends on listeners like you." (one scan for both: a scan of its own for "like you" cost 2 %)
          r"[^.!?]{1,80} (?:is (?:listener|reader|viewer|member|community|audience)[- ]"
          r"(?:supported|funded|powered)\b[^.!?]{0,120}[.!]"
          r"|(?:depends|relies|counts|survives|lives|exists|depende|dépend|vit|ist|lebt|dipende|vive|sobrevive"
          rf"|existe)\b[^.!?]{{0,60}}?\b(?:{_SUPPORTERS_LIKE_YOU})\b[^.!?]{{0,100}}[.!])(?: {_DONATION_ASK})?"
          r"|(?:Thanks|Thank you|It['’]s thanks|Grâce|Gracias|Dank|Grazie|Graças)(?: to| à| a| an)?"
          rf" [^.!?]{{0,60}}?\b(?:{_SUPPORTERS_LIKE_YOU})\b[^.!?]{{0,100}}[.!](?: {_DONATION_ASK})?"
          # the ask, maybe after one short sentence of its own ("Clean water saves lives. Your gift of $30
          # can ..."), in which nobody is reported to speak
          r"|(?:[^.!?]{1,60}+[.!] (?=Your |Tu |Votre |Ihre |La tua |Una |Il tuo |Sua |A sua |Donate |Give "
          rf"|Make a )(?![^.!?]*\b{_SAID}\b))?{_DONATION_ASK}"),
    # an invitation to report an error: "If you notice an error in the text, highlight it and press
    # Ctrl+Enter.", "Spotted a typo? Let us know.", "Vous avez trouvé une erreur ? Merci de nous la signaler."
    _rule("error_report", "boilerplate", 200,
          r"(?:(?:Found|Spotted|Noticed|Notice|See|Seen|Did you (?:notice|spot|find|see)|Have you (?:noticed"
          r"|spotted|found|seen)) (?:an? |any |some )?(?:error|mistake|typo|inaccuracy"
          r"|misprint)s?\b[^.!?]{0,60}\?"
          r"|If you (?:notice|see|spot|find|found|have found|come across|discover|believe there is)"
          r" (?:an? |any |some )?(?:error|mistake|typo|inaccuracy|misprint)s?\b"
          r"(?=.{0,160}?\b(?:Ctrl|highlight|select (?:it|the text)|let us know|tell us|report it|contact us"
          rf"|e-?mail us|write to us|send (?:it|us)|notify us|corrections?@))(?!.*\b{_SAID}\b)"
          r"|(?:Vous avez|Avez-vous|Si vous avez) (?:trouvé|repéré|remarqué|vu|relevé) une (?:erreur|faute"
          r"|coquille)|Si vous (?:trouvez|remarquez|repérez|constatez) une (?:erreur|faute|coquille)"
          r"|¿?(?:Encontraste|Encontró|Has encontrado|Ha encontrado|Viste|Detectaste|Detectó|Si (?:encuentras"
          r"|ves|detectas|encuentra|ve|detecta)) (?:un|algún|una) (?:error|errata|falta)"
          r"|(?:Haben Sie|Hast du) einen (?:Fehler|Tippfehler) (?:gefunden|entdeckt|bemerkt)"
          r"|Ist Ihnen ein Fehler"
          r" aufgefallen|Wenn Sie einen Fehler (?:finden|entdecken|bemerken)|(?:Tipp|Rechtschreib)?[Ff]ehler"
          r" (?:gefunden|entdeckt|bemerkt)\?"
          r"|(?:Hai|Avete) (?:trovato|notato|visto) un (?:errore|refuso)|Se (?:trovi|noti|hai trovato"
          r"|avete trovato|trovate|notate) un (?:errore|refuso)"
          r"|(?:Encontrou|Viu|Achou|Detetou|Detectou|Notou) (?:um|algum) (?:erro|gralha)|Se (?:encontrar|vir"
          r"|notar|encontrou|detetar|detectar) (?:um|algum) (?:erro|gralha))"
          # (nobody is reported to speak: "Vous avez trouvé une erreur dans les comptes, a dit le juge.")
          rf"(?!.*\b{_SAID}\b)[^.!?]{{0,120}}[.!?]?(?: [^.!?]{{1,120}}[.!]?)?"),
    # a paywall's offer: "Subscribe to continue reading. Only $1 for your first month.", "Abonnez-vous pour
    # lire tous nos articles.", "Already a subscriber? Log in", "Cet article est réservé aux abonnés."
    _rule("paywall_prompt", "boilerplate", 200,
          r"(?:(?:(?:Subscribe|Sign up|Register|Log in|Sign in|Become a (?:subscriber|member))(?: now| today"
          r"| for free)? (?:to|and) (?:read|continue reading|keep reading|unlock|access|get (?:unlimited|full"
          r"|digital|instant) access)"
          r"|Suscr[ií]b(?:ete|ase|ite) (?:para|y) (?:leer|seguir leyendo|acceder|continuar)"
          r"|Abonnez-vous (?:pour|et) (?:lire|continuer|accéder|poursuivre|profiter)"
          r"|(?:Jetzt )?(?:abonnieren|Abonnieren Sie|Abonniere)(?: und| um)? (?:weiterlesen|alle Artikel"
          r"|weiter zu lesen|zu lesen|unbegrenzt)|Jetzt weiterlesen mit"
          r"|Abbonati (?:per|e) (?:leggere|continuare|accedere)|Abbonatevi per"
          r"|Assin[ae] (?:para|e) (?:ler|continuar|acessar|aceder))\b"
          r"|(?:This (?:article|story|content|piece) is (?:only )?(?:available|reserved|exclusive) (?:to|for)"
          r" (?:subscribers|members|paying)|Cet (?:article|contenu) est réservé aux abonnés|Este (?:artículo"
          r"|contenido) es exclusivo para (?:suscriptores|socios)|Dieser (?:Artikel|Inhalt"
          r"|Beitrag) ist (?:nur"
          r"|exklusiv) für (?:Abonnenten|Abonnentinnen)|Questo (?:articolo"
          r"|contenuto) è riservato agli abbonati"
          r"|Este (?:artigo|conteúdo) é exclusivo para assinantes)"
          r"|(?:Already (?:a subscriber|subscribed|a member|have an account)|¿Ya eres (?:suscriptor|socio)"
          r"|Déjà abonnée?|Bereits (?:Abonnent|abonniert)|Sei già abbonato|Já (?:é|és) assinante) ?\?)"
          r"[^.!?]{0,120}[.!]?(?: [^.!?]{1,100}[.!]?)?"
          # the offer alone: "Only $1 for your first month.", "Dès 1 franc le premier mois."
          r"|(?:Only|Just|From|Dès|Desde|Ab|Da|A partir de|Por apenas|Solo|Sólo|Nur|Seulement)"
          # (a price: "Only 40 households signed up in the first month" is news)
          r" (?:[$€£] ?\d[\d.,]*|\d[\d.,]* ?(?:[$€£]|(?i:euros?|francs?|dollars?|pounds?|CHF|EUR|USD|pesos"
          r"|reais|Fr\.)))(?: [^.!?]{1,30})? (?:the first month|for (?:your|the) first month|le premier mois"
          r"|el primer mes|im ersten Monat|il primo mese|o primeiro mês)[^.!?]{0,60}[.!]?"),
    # a podcast's or newsletter's sponsor read: "This episode is sponsored by X. Use the code Y at checkout.",
    # "Support for this podcast comes from X", "Cet épisode vous est proposé par X"
    _rule("sponsor_read", "boilerplate", 300,
          r"(?:(?:This|Today['’]s|This week['’]s) (?:episode|podcast|show|newsletter|edition|issue|programme"
          r"|program|video) (?:is|was) (?:sponsored|brought to you|supported|presented|made possible|powered"
          r"|underwritten) by"
          # ("this" only: "Support for the programme comes from the ministry" is news)
          r"|(?:Support|Funding) for (?:this|today['’]s) (?:podcast|episode|show|newsletter|programme"
          r"|program) (?:comes|is provided) (?:from|by)"
          r"|(?:Our|Today['’]s|This week['’]s) sponsor(?: today| this week)? is"
          r"|Thanks to [^.!?]{1,60} for (?:sponsoring|supporting) (?:this|today['’]s) (?:episode|podcast|show"
          r"|newsletter)"
          r"|Est[ea] (?:episodio|podcast|programa|boletín) (?:está|es) (?:patrocinado|presentado"
          r"|ofrecido) por"
          r"|Cet (?:épisode|podcast) (?:est|vous est) (?:sponsorisé|parrainé|présenté|proposé|offert) par"
          r"|Diese (?:Folge|Episode|Sendung|Ausgabe) (?:wird|ist) (?:(?:Ihnen|euch|dir) )?(?:präsentiert"
          r"|gesponsert|unterstützt|ermöglicht) (?:von|durch)"
          r"|Questo (?:episodio|podcast|numero) è (?:sponsorizzato|offerto|presentato) da"
          r"|Este (?:episódio|podcast|programa) (?:é|foi) (?:patrocinado|oferecido|apresentado)"
          r" p(?:or|el[ao]))"
          # (what follows may name a web address: "Visit harbourbank.example/podcast.")
          rf" {_IN_SENTENCE}{{1,120}}[.!:]?(?: {_IN_SENTENCE}{{1,160}}[.!]?){{0,2}}"
          # a promo code on a line of its own: "Use the code NORTH at checkout.", "Get 20% off with code X"
          # (after an offer, "Fly to Vágar from 99 euros: use the code X", it is part of the sponsor read)
          r"|(?:(?:Get|Save) [^.!?]{1,40} (?:with|using) (?:the |our )?(?:promo |discount )?code"
          r" [A-Z0-9]{3,}\b"
          r"|(?:[Uu]se|[Ee]nter|[Aa]pply|[Uu]sa|[Uu]tiliza|[Uu]tilisez|[Nn]utzen Sie"
          r"|[Nn]utze|[Uu]tilizza|[Uu]se) (?:the |our |promo |discount |coupon |offer |el |le |den |il |o )*"
          r"(?:code|código|Code|codice|Gutscheincode|Rabattcode)(?: promo(?:cional)?)? [A-Z0-9]{3,}\b)"
          r"[^.!?]{0,100}[.!]?"),
    # tiplines: "Seen a claim you want us to check? Send it to ...", "Got a story? Email ..."
    _rule("tip_prompt", "boilerplate", 300,
          r"(?:Seen|Got|Have you (?:seen|got)|Have|Do you have|Spotted|Know of) (?:a|an|any)\b[^.!?]{1,80}\?"
          r" (?:Send|Email|E-mail|Contact|Write to|Tell|Message|Call|Text|WhatsApp|Get in touch|Let us know"
          r"|Reach|Drop)\b.{1,200}"
          r"|¿(?:Tienes|Tenés|Viste|Has visto|Sabes)[^?]{1,80}\? (?:Envíanos|Envíalo|Escríbenos|Contáctanos"
          r"|Cuéntanos|Mándanos)\b.{1,200}"
          r"|(?:Vous avez|Avez-vous)[^?]{1,80} ?\? (?:Envoyez|Écrivez|Contactez|Signalez)\b.{1,200}"
          r"|(?:Haben Sie|Sie haben)[^?]{1,80}\? (?:Schreiben|Senden|Schicken|Kontaktieren)\b.{1,200}"
          r"|(?:Hai|Avete)[^?]{1,80}\? (?:Scrivici|Inviaci|Segnalaci|Contattaci)\b.{1,200}"
          r"|(?:Tem|Viu)[^?]{1,80}\? (?:Envie|Escreva|Mande|Fale)\b.{1,200}"),
    # "Share your memories of X in the comments below.", "Let us know what you think in the comments"
    _rule("comment_prompt", "boilerplate", 200,
          r"(?=(?s:.*)(?:omment|omentári|ommentair))"
          r"(?:(?:[^.!?]{0,100}\? )?(?:Share|Tell us|Let us know|Leave|Post|Add|Join|Have your say|Give us)\b"
          r"[^.!?]{0,100}?\b(?:in|below in|to|on) (?:the )?comments?(?: section)?(?: below)?[.!]?"
          r"|(?:Déjanos|Deja|Dinos|Cuéntanos)\b[^.!?]{0,80}\bcomentarios?\b[^.!?]{0,30}[.!]?"
          r"|(?:Laissez|Dites-nous|Partagez)\b[^.!?]{0,80}\bcommentaires?\b[^.!?]{0,30}[.!]?"
          r"|(?:Schreiben Sie|Teilen Sie)\b[^.!?]{0,80}\bKommentar\w*\b[^.!?]{0,30}[.!]?"
          r"|(?:Lascia|Dicci|Scrivi)\b[^.!?]{0,80}\bcommenti?\b[^.!?]{0,30}[.!]?"
          r"|(?:Deixe|Diga-nos|Conte-nos)\b[^.!?]{0,80}\bcomentários?\b[^.!?]{0,30}[.!]?)"),
    # an invitation to the page's discussion, maybe after a question to the reader: "Was meinen Sie?
    # Diskutieren Sie mit.", "What do you think? Join the conversation.", "Participez au débat !"
    _rule("discussion_prompt", "boilerplate", 160,
          r"(?:[^.!?]{1,60}\? )?(?:Join the (?:conversation|discussion|debate)|Have your say"
          r"|Únete a la conversación|Participa en (?:el debate|la conversación)|Opina"
          r"|Participez (?:au débat|à la discussion)|Réagissez|Diskutieren Sie mit|Reden Sie mit"
          r"|Partecipa alla discussione|Dì la tua|Participe (?:do debate|da conversa)|Opine)"
          r"(?: (?:below|here|now|abajo|aquí|ci-dessous|hier|qui|aqui|jetzt))? ?[.!]?"),
    # The promotional prompt, as one family: a short line in the imperative, maybe after a question to the
    # reader, that names where to reach or follow the outlet (an app, a podcast, a social network, email,
    # "us", "our" newsletter or feed): "Send us your news: email ... or message us on Facebook.", "Listen to
    # our weekly podcast, X, wherever you get your podcasts.", "Fehler gefunden? Jetzt melden.". Narrative
    # never starts with an imperative ("Residents can download the app ..."), quotes start with a mark, and
    # reported speech without marks says who spoke ("Listen to us, the fishermen told the minister").
    _rule("reader_prompt", "boilerplate", 200,
          rf"(?:[^.!?]{{1,60}}\? )?(?={_READER_VERB}\b{_IN_SENTENCE}{{0,160}}?(?:\b{_READER_CHANNEL}\b|@\w))"
          rf"(?!.*\b{_SAID}\b)"
          rf"{_READER_VERB}\b{_IN_SENTENCE}{{0,160}}[.!]?(?: [A-ZÀ-Þ]{_IN_SENTENCE}{{0,120}}[.!]?)?"),
    _rule("app_prompt", "boilerplate", 200,
          r"(?:Download|Get|Install)(?: the| our)?(?: free)?(?: [\w&'’\-]++){0,3} (?i:apps?)\b.{0,120}"
          r"|(?i:open in app)"),
    _rule("follow_prompt", "boilerplate", 200,
          rf"(?:[^.!?]{{1,150}}+[.!] )?(?:For (?:more|the latest)[^,.]{{0,60}}, |You can also |Also )?"
          rf"(?:(?:Click|Tap) here to )?(?:[Ff]ollow|[Jj]oin)"
          rf" (?:us|our [\w \-]{{1,40}}|{_TITLE_WORD}(?: {_TITLE_WORD}){{0,3}})"
          rf" on {_PLATFORM}(?:(?:,| and| or| &) {_PLATFORM})*(?: (?:for|to get) [^.]{{0,80}})?[.!]?"),
    _rule("channel_prompt", "boilerplate", 200,
          rf"(?:Be the first to know[.!] )?(?:(?:Click|Tap) here to )?(?:Join|Follow|Subscribe to)"
          rf" (?:our|the|{_TITLE_WORD}(?: {_TITLE_WORD}){{0,3}})(?: [\w\-]++){{0,4}}"
          r" (?:WhatsApp|Telegram|Viber|Signal) (?:channel|group|community)\b.{0,120}"),
    _rule("follow_prompt_i18n", "boilerplate", 120,
          r"(?i:s[ií]guenos|seguinos|siga-nos|sigam-nos|suivez-nous|folgen sie uns|seguici"
          r"|(?:siga|sigue|segue|suivez|folgen sie|seguite) (?:o |a |al |la |le |l'|il |lo |dem |der )?"
          r"[A-ZÀ-Þ][\w'’\-]*+(?: [\w'’\-]++){0,3})"
          r" (?:en|no|na|sur|auf|su)"
          r" .{1,60}"),
    _rule("click_here", "boilerplate", 170, r"(?:Click|Tap) here\b.{0,150}"),
    _rule("privacy_notice", "boilerplate", 300,
          r"(?:Your (?:information|data|personal (?:information|data|details)|details|e-?mail(?: address)?)"
          r" (?:is|are|will be) (?:being )?(?:handled|used|processed|collected|stored)"
          r"|By (?:subscribing|signing up|registering|submitting|clicking|entering)\b[^.]{0,120}?,"
          r" you (?:agree|accept|consent|acknowledge))\b"
          r"(?=.{0,200}?(?i:privacy|policy|terms|in accordance with)).{0,250}"),
    _rule("author_bio", "boilerplate", 320,
          rf"(?:{_NAME} (?:reports|writes|covers|edits|leads|is|was|has)\b[^!?]{{1,250}}?[.!?] )?"
          rf"More (?:about|by|stories by|articles by) {_NAME}\.?"),
    # where else the text ran: "A version of this article appears in print on ...", "This story was
    # originally published by ..." (not "This report was published by the UN": reports are news)
    _rule("print_edition", "boilerplate", 400,
          r"A version of this (?:article|story|piece|report|column|interview|essay)"
          r" (?:also )?(?:appears|appeared|ran|was published) (?:in|on) .{1,300}"
          r"|This (?:article|story|piece|column|essay|post) (?:was )?(?:originally|first)"
          r" (?:appeared|appears|published|ran) (?:in|on|at|by) .{1,300}"),
    _rule("cookie_notice", "boilerplate", 500,
          r"(?:We|This (?:site|website)|Our (?:site|website)s?) uses? cookies\b.{0,400}"
          r"|By (?:continuing to (?:use|browse)|using) (?:this|our) (?:site|website)\b.{0,300}"
          r"|(?i:(?:accept|reject|manage)(?: all)? cookies|cookie (?:settings|policy|preferences|notice))"
          r"|(?:Wir verwenden|Wir nutzen|Diese (?:Website|Seite) (?:verwendet|nutzt)|Nous utilisons"
          r"|Ce site utilise|Utilizamos|Usamos|Este (?:sitio|site)(?: web)? (?:utiliza|usa)|Utilizziamo"
          r"|Questo sito utilizza)"
          r" (?:des |i |os |las )?[Cc]ookies?\b.{0,400}"),
    # "12 comments", "Comentarios (8)", "Kommentare (14)", "Leave a Reply", "Laisser un commentaire"
    _rule("comment_count", "boilerplate", 40,
          rf"\d[\d,.]*[kK]? (?i:{_COMMENTS}|replies|responses|respuestas|réponses|antworten|risposte"
          r"|respostas)"
          rf"|(?i:(?:view|show|read|jump to|leave a|add a|post a)(?: the)? comments?"
          r"|(?:ver|leer|mostrar|deja|dejar|escribe) (?:los |un |tu )?comentarios?"
          r"|(?:voir|lire|afficher|laisser|ajouter|écrire) (?:les |un |votre )?commentaires?"
          r"|(?:kommentare? (?:anzeigen|lesen|schreiben)|(?:einen |ihren )?kommentar schreiben"
          r"|schreibe einen kommentar)"
          r"|(?:vedi|leggi|mostra|lascia|scrivi) (?:i |un |il tuo )?comment[oi]"
          r"|(?:ver|ler|mostrar|deixe|deixar|escreva) (?:os |um |seu )?comentários?"
          r"|leave a reply|deja una respuesta|deixe uma resposta|laisser une réponse)"
          r"(?: \(\d+\))?"
          rf"|(?i:{_COMMENTS})(?: \(\d+\)| \d+)?[.:]?"
          r"|(?i:(?:comments? (?:are )?)?closed|comentarios cerrados|commentaires fermés"
          r"|kommentare geschlossen|commenti chiusi|comentários fechados)\.?"),
    _rule("listen_prompt", "boilerplate", 60,
          r"(?i:listen to (?:this )?(?:article|story)|\d+ min(?:ute)?s? read|reading time:? \d+ min(?:ute)?s?"
          r"|continue reading|read the full (?:story|article)(?: (?:on|at|in) .{1,60})?"
          r"|watch(?: the)? video|play video|watch live|(?:artikel|beitrag) anhören|vorlesen lassen"
          r"|écouter (?:l'|cet )article|escuchar (?:esta |la |este )?(?:nota|noticia|artículo)"
          r"|ouvir (?:a |o |esta |este )?(?:notícia|artigo|matéria)|ascolta (?:l'|questo )articolo)"
          r"(?: ?[:\-–]? ?\d{1,2}:\d{2})?"
          # a duration: "(2 min)", "• 4 Min."
          r"(?: ?[(•·|:\-–]? ?\d{1,3} ?(?i:min|mins|minutes?|minuten|minutos|minuti)\.?\)?)?"
          r"(?: ?[.…»›→]+| \.\.\.)?"),
    _rule("player_label", "boilerplate", 200,
          r"(?:Listen|Listen now|Listen live|Play|Play episode|Play video|Play audio|Watch|Watch now|Video"
          r"|VIDEO|WATCH|LISTEN|Download|Escuchar|Escucha|Ver video|Mira|Écouter|Écoutez|Regarder|Regardez"
          r"|Vidéo|Anhören|Hören|Ansehen|Video ansehen|Ascolta|Guarda|Ouvir|Ouça|Assista|Assistir|Vídeo)"
          r"(?: ?[:\-–|·•] ?[^()\n]{1,150}?)? ?[(\[•·|\-–]? ?"
          # the duration: "(2:41)", "(4 min 12 sec)", "24 min", "1 h 05 min"
          r"(?:\d{1,2}:\d{2}(?::\d{2})?|(?:\d{1,2} ?(?:h|hr|hrs|hours?|Std\.?) )?\d{1,3} ?"
          r"(?i:min|mins|minutes?|minuten|minutos|minuti)\.?"
          r"(?: \d{1,2} ?(?i:s|sec|secs|seconds?|sek|seg|segundos|secondes"
          r"|secondi|segundos)\.?)?)[)\]]?"),
    # "This story has been updated.", "Cet article a été mis à jour", "Mis à jour à 11h30"
    _rule("update_notice", "boilerplate", 200,
          r"(?:This (?:story|article|post|report|page|piece) (?:has been|was|is being"
          r"|will be) updated\b[^.!?]{0,120}"
          r"|Cet article a été (?:mis à jour|actualisé)\b[^.!?]{0,120}"
          r"|Est[ae] (?:artículo|nota|noticia|información) (?:ha sido|fue|será) actualizad[ao]\b[^.!?]{0,120}"
          r"|Dieser (?:Artikel|Beitrag|Text) wurde (?:aktualisiert|zuletzt aktualisiert)\b[^.!?]{0,120}"
          r"|Questo articolo è stato aggiornato\b[^.!?]{0,120}"
          r"|Esta (?:notícia|reportagem|matéria) foi atualizada\b[^.!?]{0,120}"
          r"|(?:Updated|Last updated|Mis à jour|Actualizado|Actualizada|Atualizado|Atualizada|Aktualisiert"
          r"|Aggiornato|Aggiornata)(?: (?:on|at|le|à|el|a las|em|às|am|um|il|alle))?:?"
          # a clock time must follow ("11h30", "10:05"): "Updated figures show 40% growth" is news
          r" [^.!?]{0,30}?\b\d{1,2}[:h]\d{2}\b[^.!?]{0,30})[.!]?"),
    # what paid for the piece: "This article was produced with the support of a foundation that ..."
    _rule("funding_note", "boilerplate", 500,
          r"(?:(?:Co-)?[Ff]unded by the European Union\b[^.!?]{0,120}[.!]?(?= |$)"
          r"|This (?:article|story|piece|coverage|series|reporting|investigation|project|podcast|episode"
          r"|newsletter|feature|publication|content|material|website|video) (?:was|is|has been)"
          r" (?:produced|made possible|supported|funded|published"
          r"|written|reported|created|undertaken|co-published)\b"
          r"(?=(?:[^.!?]{0,200}[.!] )?[^.!?]{0,200}?\b(?:support|funding|funded|grant|fund|foundation"
          r"|sponsor\w*|partnership|fellowship|scheme|programme|program|initiative|assistance"
          r"|European Union)\b)"
          r"|Est[ae] (?:artículo|reportaje|contenido|trabajo|publicación) (?:fue|ha sido|es)"
          r" (?:producid[oa]|realizad[oa]|elaborad[oa]|financiad[oa]|posible) (?:con|gracias)\b"
          r"|Cet(?:te)? (?:article|reportage|publication) a été (?:réalisée?|produite?|financée?)"
          r" (?:avec|grâce)\b"
          r"|(?:Dieser (?:Artikel|Beitrag|Text)|Diese (?:Veröffentlichung|Publikation)) (?:wurde|entstand)"
          r" (?:mit|durch|dank)\b"
          r"(?=[^.!?]{0,200}?(?:Unterstützung|gefördert|Förderung))"
          r"|Quest[oa] (?:articolo|reportage|pubblicazione) è stat[oa] (?:realizzat[oa]|prodott[oa]"
          r"|finanziat[oa]) (?:con|grazie)\b"
          r"|Esta (?:reportagem|matéria|notícia|publicação) foi (?:produzida|realizada|financiada)"
          r" (?:com|graças)\b)"
          r"[^.!?]{0,200}[.!](?: [^.!?]{0,200}[.!]){0,2}"),
    # "This post may contain affiliate links. If you book through them, I may earn a commission.", "As an
    # Amazon Associate I earn from qualifying purchases.", "Cet article contient des liens affiliés."
    _rule("affiliate_disclosure", "boilerplate", 300,
          # (first what a disclosure starts with, then a scan of its first sentence for what every branch
          # holds there: "affiliat", "afiliados", "affiliés", "Associate ", "earn a commission"; a scan of
          # every block costs a fifth of the block rules' time)
          r"(?=(?:This|These|Some|Links?|As an?|We|I|If you|Disclosure|Affiliate|Note|Our|Any|Cet|Ce|Certains"
          r"|Este|Esta|Algunos|Alguns|Dieser|Diese|Einige|Questo|Alcuni)\b|\*|\(\*\))"
          r"(?=[^.!?]{0,200}?(?:ffiliat|filiad|ffilié|Associate |arn (?:a |an )?(?:small )?commission))"
          r"(?:[^.!?]{0,120}\b(?i:contains?|includes?|may (?:contain|include)|uses?|has|have"
          r"|features?|are|is)"
          r" (?:some )?(?i:affiliate links?|affiliate marketing|sponsored links?)\b"
          r"|(?:As an|As a) (?:Amazon|eBay|[A-Z]\w*) (?:Associate|affiliate|Affiliate)\b"
          # first person only: "Agents could earn a commission under the new law" is news
          r"|(?:[^.!?]{0,120}[,;] (?:and |but |so )?)?(?:I|[Ww]e|[Tt]his (?:site|blog|website))"
          r"(?: may| might| will| could)?"
          r" (?:earn|receive|get|make)s? (?:a |an )?(?:small )?(?:commission|fee|share of (?:the )?"
          r"(?:sales?|revenue))\b"
          r"|[^.!?]{0,80}\b(?:contiene|contém|contient|enthält|contiene) (?:algunos |des |alguns )?"
          r"(?:enlaces|links|liens|Links|link) (?:de )?(?:afiliad[oa]s?|d'affiliation|affiliés?|Affiliate|"
          r"di affiliazione|affiliati)\b"
          r"|(?:\*|\(\*\) ?)?(?:Affiliate link|Affiliate-Link|Lien affilié|Enlace de afiliado"
          r"|Link di affiliazione|Link de afiliado)s?\b)[^!?]{0,280}"),
    _rule("caption_label", "boilerplate", 420, r"(?:Image|Media|Video) caption, .{0,400}"),
    _rule("byline", "boilerplate", 200,
          rf"(?:By|BY|Written by|Text by:?|Words by:?|Por|POR|Von|VON|Par|PAR|Di|di) {_NAMES}"
          rf"(?:(?:,| in| for| \||,? [-–—])"
          rf" {_TITLE_WORD}(?:,? (?:{_TITLE_WORD}|{_BYLINE_WORD})){{0,6}})?(?: ?[|·•,] ?{_STAMP})?"),
    _rule("dateline", "boilerplate", 120, rf"{_STAMP}(?: ?[|·•,;] ?{_STAMP})*"),
    _rule("signoff_reporting", "boilerplate", 300,
          rf"\(?{_CREDIT_ROLE} by {_PLACED_NAMES}"
          rf"(?: ?[;,] (?:and )?{_CREDIT_ROLE} by {_PLACED_NAMES})*\.?\)?\.?"),
    # a podcast's production credits, one or several: "Produced by X. Sound by Y.", "Producer: X | Music: Y"
    _rule("production_credits", "boilerplate", 120,
          rf"(?:{_PRODUCTION_ROLE}|{_PRODUCTION_LABEL}) {_PLACED_NAMES}"
          rf"(?:(?:(?<=\.) | ?[.;,|·] ?(?:and )?)(?:{_PRODUCTION_ROLE}"
          rf"|{_PRODUCTION_LABEL}) {_PLACED_NAMES})*\.?"),
    _rule("signoff_role_i18n", "boilerplate", 200,
          rf"\(?(?:Edición|Editado por|Edición de|Traducción|Traducido por|Édité par|Édition|Traduit par"
          rf"|Traduction|Redigiert von|Redaktion|Übersetzt von|Übersetzung|A cura di|Traduzione|Tradotto da"
          rf"|Edição|Tradução|Traduzido por|Revisão)(?: de| di)?:? {_PLACED_NAMES}\.?\)?\.?"),
    _rule("signoff_source", "boilerplate", 100, r"Sources?: [A-Z][^.!?:]{0,80}\.?"),
    _rule("signoff_with_agency", "boilerplate", 100,
          rf"\([A-Z0-9][\w&'’ .\-]{{0,40}} (?:with|avec|mit|con) {_AGENCY}(?:(?:,| and| et) {_AGENCY})*\)\.?"
          rf"|\({_AGENCY}(?:(?:,| and|/) {_AGENCY})*\)\.?"
          rf"|\((?:(?i:(?:with|avec|con|mit|com)(?: (?:información|informaciones|info|material|informações)"
          rf" (?:de|von|da))?)|(?i:source|fuente|fonte|quelle) ?:?) "
          rf"(?:{_AGENCY}|(?i:agencies|agences|agencias|agenturen|agenzie|agências))"
          rf"(?:(?:,| and| et| y| und| e) (?:{_AGENCY}|(?i:agencies|agences|agencias|agenturen|agenzie"
          rf"|agências)))*\)\.?"
          rf"|(?:[-–—] ?|With ){_AGENCY}(?:(?:,| and) {_AGENCY})*\.?"),
    # a press release's wire footer: "SOURCE Acme Corp", "Media contact: Jane Doe, +1 555 0100"
    _rule("press_release_source", "boilerplate", 80, rf"SOURCE:? {_NAME}"),
    _rule("press_contact", "boilerplate", 300,
          r"(?:(?i:media|press|news|investor|public)(?: relations)? (?:contacts?|enquiries|inquiries)"
          r"|(?:Contactos?|Contacto) (?:de|para) (?:prensa|medios)|Contacts? (?:presse|médias)|Pressekontakt"
          r"|Medienkontakt|Contatt[oi] stampa|Contato (?:para|de) imprensa|Assessoria de imprensa"
          # "For enquiries contact: ...", "Para más información, contacte: ..." (the colon is needed)
          r"|(?:For|For (?:further|more|all|media|press)) (?:enquiries|inquiries|information)(?:,? please)?"
          r",? (?:contact|call|email|e-mail|write to)|Para más información,? (?:contacte|contactar|llame)"
          r"|Pour (?:plus d'informations|toute information|tout renseignement),? (?:contactez|contacter)"
          r"|Für (?:Rückfragen|weitere Informationen)(?: wenden Sie sich an| kontaktieren Sie)?"
          r"|Per (?:informazioni|ulteriori informazioni),? (?:contattare|contatta|rivolgersi a)"
          r"|Para mais informações,? (?:contate|contatar|entre em contato com))"
          r"(?: ?: ?.{1,250}| ?:)"),
    # (?=...): what both branches need, found from the end in a C loop before any costly scan
    _rule("signoff_contributed", "boilerplate", 260,
          r"(?=(?s:.*) contributed)(?:"
          r"(?:_{2,} ?)?[A-Z][^.!?]{0,200}? contributed"
          r" (?:reporting(?: to this (?:report|story|article))?|to this (?:report|story|article))\.?"
          rf"|(?:_{{2,}} ?)?(?=[^.!?]{{0,200}}?\b{_JOURNALIST}\b)[A-Z][^.!?]{{0,200}}? contributed\.)"),
    _rule("coverage_prompt", "boilerplate", 260,
          r"(?:Follow|Find more of|Read more of|See more of|More of|Read|Find|See)"
          r" [A-Z][\w'’ .\-]{0,40} coverage\b[^.]{0,120}? (?:at|on|here)\b.{0,150}"),
    _rule("standards_notice", "boilerplate", 160, r"Our Standards: .{1,140}"),
    _rule("disclaimer", "boilerplate", 500, r"(?i:disclaimer) ?: ?.{1,480}"),
    # a comment form's login note: "You must be logged in to post a comment.", "Debes iniciar sesión para
    # comentar.", "Vous devez être connecté pour publier un commentaire.", "Sie müssen angemeldet sein, um
    # einen Kommentar zu schreiben.", "Devi essere loggato per inviare un commento.", "Faça login para
    # comentar."
    _rule("comment_login", "boilerplate", 120,
          r"(?:(?:You must|You need to|You have to|Please|Only (?:registered )?(?:users|readers|subscribers"
          r"|members))(?: be| are)? (?:logged in|signed in|log in|sign in|registered|a (?:registered user"
          r"|subscriber|member)|subscribers?|members?|can)\b[^.!?]{0,40}?\bcomment(?:s|ing)?\b"
          r"|(?:Log|Sign) in(?: or (?:register|sign up|subscribe))? to (?:comment|post a comment"
          r"|leave a comment"
          r"|join the (?:conversation|discussion))"
          r"|(?:(?:Debes|Tienes que|Necesitas)(?=[^.!?]*coment)|Para (?:comentar|dejar un comentario"
          r"|publicar un comentario),? (?:debes|tienes que|necesitas))[^.!?]{0,60}?\b(?:iniciar sesión"
          r"|estar registrad[oa]"
          r"|registrarte|suscribirte|identificarte|estar suscrit[oa])\b"
          r"|(?:Inicia sesión|Regístrate|Identifícate)[^.!?]{0,30}?\bcoment"
          r"|(?:Vous devez|Il faut) (?:être |vous )?(?:connecté|identifié|inscrit|abonné)e?s?\b[^.!?]{0,40}?"
          r"\b(?:commentaires?|commenter)"
          r"|(?:Connectez-vous|Identifiez-vous|Inscrivez-vous) pour (?:commenter|réagir"
          r"|laisser un commentaire)"
          r"|(?:Sie müssen|Du musst|Bitte)[^.!?]{0,30}?\b(?:angemeldet|eingeloggt|registriert|anmelden"
          r"|einloggen)\b[^.!?]{0,40}?(?:[Kk]ommentar\w*|kommentieren)"
          r"|Zum Kommentieren (?:anmelden|einloggen|registrieren)"
          r"|(?:Devi(?=[^.!?]*comment)|Per (?:commentare|lasciare un commento),? (?:devi|è necessario))"
          r"[^.!?]{0,40}?\b(?:loggato|registrato|effettuare il login|accedere|iscritto|abbonato)\b"
          r"|(?:Accedi|Registrati) per (?:commentare|lasciare un commento)"
          r"|(?:Você precisa|Você deve|É (?:necessário|preciso))[^.!?]{0,30}?\b(?:estar logad[oa]|fazer login"
          r"|estar cadastrad[oa]|ser assinante|entrar)\b[^.!?]{0,40}?\bcoment\w*"
          r"|(?:Faça login|Entre|Cadastre-se) para comentar)[^.!?]{0,40}[.!]?"),
    # a release's note on media material: "Photos of the opening are available on request.", "Fotos
    # disponibles bajo petición", "Photos disponibles sur demande", "Bildmaterial auf Anfrage erhältlich"
    _rule("media_availability", "boilerplate", 120,
          r"(?:(?:High[- ]resolution |Hi-res |More |Further |Additional )?(?:[Pp]hotos|[Pp]hotographs"
          r"|[Ii]mages"
          r"|[Pp]ictures|B-roll|[Vv]ideo|[Ff]ootage|[Ii]nterviews|[Ss]pokespe(?:ople|rsons)|[Vv]isuals)\b"
          r"[^.!?]{0,80}? (?:are|is) available (?:on request|upon request|for download|to (?:accredited )?"
          r"(?:media|journalists|the press)|from (?:the )?(?:press office|media team|communications team))"
          r"|(?:Fotos|Imágenes|Entrevistas|Vídeos?)\b[^.!?]{0,60}? disponibles? (?:bajo|a|previa)"
          r" (?:petición|solicitud|demanda)"
          r"|(?:Photos|Images|Visuels|Interviews|Entretiens)\b[^.!?]{0,60}? disponibles? sur"
          r" (?:simple )?demande"
          r"|(?:Fotos|Bilder|Bildmaterial|Interviews|Pressefotos)\b[^.!?]{0,60}? (?:auf Anfrage|zum Download)"
          r"(?: erhältlich| verfügbar| bereit)?"
          r"|(?:Foto|Immagini|Interviste)\b[^.!?]{0,60}? disponibili su richiesta"
          r"|(?:Fotos|Imagens|Entrevistas)\b[^.!?]{0,60}? disponíve(?:l|is) (?:mediante|sob) (?:solicitação"
          r"|pedido|consulta))"
          rf"(?![^.!?]*\b{_SAID}\b)[^.!?]{{0,80}}[.!]?"),
    # the heading that opens a release's notes ("Notes to editors", "Note aux rédactions", "Hinweis für
    # Redaktionen"): the story ends before it
    _rule("release_notes", "boilerplate", 40,
          r"(?i:notes? (?:to|for) (?:the )?editors?|notes? (?:aux|à la) rédactions?"
          r"|notas? (?:para|a) (?:los |las )?"
          r"(?:editores|redactores|periodistas|redacciones)|hinweise? für (?:die )?redaktion(?:en)?"
          r"|nota (?:per|alle) (?:le )?redazion[ei]"
          r"|notas? (?:aos|para os|para) (?:editores|jornalistas|redações))"
          r" ?:?"),
    _rule("tag_line", "boilerplate", 240,
          r"(?i:tags?|topics?|keywords?|filed under|categories|themen|temas|etiquetas|sujets)"
          r" ?: ?[^.!?]{1,200}"),
    _rule("more_news_at", "boilerplate", 100,
          r"(?i:más noticias en|mais notícias em|plus d'infos sur|more news (?:at|on)) .{1,60}"),
    # a blog's previous / next post links: "« Older post | Newer post »", "‹ A | B ›", "← A | B →"
    _rule("post_navigation", "boilerplate", 300,
          r"(?:«|‹|←|<) ?[^|«»‹›←→<>]{1,140}? \| [^|«»‹›←→<>]{1,140}? ?(?:»|›|→|>)"),
    # an aggregator's note on copy it did not edit: "(This story has not been edited by X staff and is
    # auto-generated from a syndicated feed.)"
    _rule("syndication_note", "boilerplate", 300,
          # (one sentence, in which nobody is reported to speak: looked for only after the opening words)
          r"\(?(?:This (?:story|article|report|news|content) (?:has not been|was not|is not|hasn't been)"
          r" edited"
          r"|(?:Only|Except for) the (?:headline|title|image)[^.!?]{0,80} (?:has|have|may have) been"
          rf" (?:changed|reworked|edited))(?![^.!?]*\b{_SAID}\b)[^().!?]{{0,240}}?"
          r"\b(?i:syndicat\w*|auto-generated"
          r"|automatically generated|agency feed|wire feed|news feed)\b[^().!?]{0,100}\.?\)?\.?"),
    # a search field's placeholder: "Search...", "Buscar…", "Rechercher ...", "Suche..."
    _rule("search_field", "boilerplate", 30,
          r"(?i:search|search this site|search the site|buscar|busca|rechercher|recherche|suche|suchen|cerca"
          r"|pesquisar|pesquisa) ?(?:\.\.\.|…)"),
    _rule("story_end", "boilerplate", 12, r"(?i:\(?end(?:s|item)?\)?|-30-|- 30 -|###|# # #)"),
    _rule("url_only", "boilerplate", 300, r"(?:https?://|www\.)\S+|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"),
    _rule("separator", "boilerplate", 200, r"(?:[_\-–—=*~•·#]++ ?)++"),
    _rule("copyright", "boilerplate", 170,
          rf"(?:©|\([cC]\)|Copyright) ?(?:\d{{4}}(?:[-–]\d{{4}})?)?.{{0,150}}|(?i:{_RESERVED})\.?(?: ?©)?"),
    _rule("wordpress_footer", "boilerplate", 420, r"The post .{1,300} appeared first on .{1,100}\.?"),
    _rule("ellipsis", "boilerplate", 5, r"\[?(?:…|\.\.\.)\]?"),
    # -- end notes (positional: only ever the last blocks of the body) -----------------------------------
    # An author's note: "Jane Doe covers health for The Gazette. She is based in Leeds.", "Written by
    # Jane Doe – food writer based in Lyon." (a sentence, so the footer pass leaves it)
    _rule("author_note", "end_note", 320,
          rf"(?:{_NAME} (?:covers|reports on|writes about|writes on"
          rf"|is (?:a|an|the) [^.!?]{{0,60}}?(?i:{_JOB}|columnist|editor)s?)"
          rf"\b[^.!?]{{0,120}}? (?:for|at|with) (?:the )?{_OUTLET}"
          rf"(?: (?:from|in|based in|out of) {_TITLE_WORD}(?: {_TITLE_WORD}){{0,2}})?[.!]"
          # the same in es / fr / de / it / pt: "Ana Ruiz es periodista de X.", "Jean Dupont est
          # journaliste à X.", "Anna Berg ist Redakteurin bei X.", "Marco Rossi è giornalista di X."
          rf"|{_NAME_WORD}(?: {_NAME_WORD}){{1,3}} (?:es|est|ist|è|é)"
          r" (?:una? |le |la |il |lo |der |die |o |a )?"
          r"(?:[\w-]+ )?(?:periodista|corresponsal|redactor|redactora|journaliste|correspondante?|rédacteur"
          r"|rédactrice|Journalist(?:in)?|Korrespondent(?:in)?|Redakteur(?:in)?|giornalista|corrispondente"
          r"|redattore|redattrice|jornalista|correspondente|repórter)\b[^.!?]{0,150}[.!]"
          # "Luisa Gomes is Mines & Metals Week's Latin America correspondent, based in Georgetown."
          rf"|{_NAME} is (?:the )?{_OUTLET}(?<=['’]s) [^.!?]{{0,60}}?(?i:{_JOB}|columnist)s?"
          rf"\b[^.!?]{{0,80}}[.!]"
          rf"|(?:Written|Reported|Words|Text) by {_NAMES}(?: ?[,–—|-] ?[^.!?]{{1,150}})?[.!]?)"
          r"(?: (?:He|She|They) (?:is|are|was|lives|has|joined|can be reached|previously)\b[^!?]{1,150}?[.!])"
          r"{0,2}"),
    # an opinion piece's disclaimer, which closes it: "The views expressed in this article are the author's
    # own and do not necessarily reflect ...", "Les opinions exprimées n'engagent que leur auteur", "Die
    # geäußerten Meinungen sind die des Autors", a funder's "Its contents are the sole responsibility of X"
    # (a sentence in which nobody is reported to speak)
    _rule("opinion_disclaimer", "end_note", 300,
          r"(?:(?:The |These |Any |All )?(?:[Vv]iews?|[Oo]pinions?)(?: and (?:views|opinions))?"
          r" (?:expressed|stated|presented|in this (?:article|column|piece|post|blog|op-ed|commentary))\b"
          r"[^.!?]{0,100}?\b(?:are|is|remain)\b[^.!?]{0,80}?\b(?:author|authors|writer|writers|contributor"
          r"|contributors|columnist|own|personal)\b"
          r"|(?:Its|The|This|These) (?:contents?|views?|opinions?)\b[^.!?]{0,80}? (?:are|is) (?:the )?"
          r"(?:sole(?:ly)? responsib|exclusive responsib)"
          r"|(?:Las|Los) (?:opiniones|conceptos|puntos de vista) (?:expresad[oa]s|vertid[oa]s|emitid[oa]s)\b"
          r"[^.!?]{0,120}?\b(?:autor|autora|autores|responsabilidad)"
          r"|Les (?:opinions|propos|points de vue) (?:exprimée?s|tenus)\b[^.!?]{0,120}?(?:auteur|autrice"
          r"|n'engagent)"
          r"|Cet(?:te)? (?:tribune|chronique|contribution|article) n'engage que\b"
          r"|Die (?:in diesem (?:Beitrag|Artikel|Text|Gastbeitrag|Kommentar) )?"
          r"(?:geäußerten|vertretenen|wiedergegebenen)"
          r" (?:Meinungen|Ansichten)\b[^.!?]{0,120}?\b(?:Autors|Autorin|Autoren|Verfassers|Verfasserin)"
          r"|(?:Der|Dieser) (?:Gastbeitrag|Kommentar|Beitrag) gibt (?:die|ausschließlich die) (?:Meinung"
          r"|Ansicht) (?:des|der) (?:Autors|Autorin|Verfassers|Verfasserin)"
          r"|Le (?:opinioni|idee) (?:espresse|riportate)\b[^.!?]{0,120}?\b(?:autore|autrice|autori|personali)"
          r"|(?:As opiniões|Os artigos assinados|Os textos assinados|Os conceitos)\b[^.!?]{0,120}?"
          r"\b(?:autor|autora|autores|refletem necessariamente))"
          rf"(?![^.!?]*\b{_SAID}\b)[^.!?]{{0,250}}[.!]?(?: [^.!?]{{0,200}}[.!])?"),
    # what series the piece belongs to: "This column is part of our Voices from the Islands series,
    # supported by ...", "Este reportaje forma parte del especial ...", "Cet article fait partie de notre
    # série"
    _rule("series_note", "end_note", 300,
          r"(?:This (?:article|story|column|piece|report|post|episode|feature|interview|essay|newsletter"
          r"|podcast) is (?:part|one) of (?:an? |the |our )?[^.!?]{0,120}?\b(?:series|project|initiative"
          r"|collaboration|partnership|special|coverage|programme|program|reporting)\b"
          r"|Est[ae] (?:artículo|reportaje|columna|texto|nota|entrevista) (?:es parte|forma parte|hace parte)"
          r" de(?:l| la)? [^.!?]{0,120}?\b(?:serie|proyecto|especial|iniciativa|alianza|cobertura)\b"
          r"|Cet(?:te)? (?:article|reportage|chronique|tribune|entretien) (?:fait partie|s'inscrit dans le"
          r" cadre) d[eu'] ?[^.!?]{0,120}?\b(?:série|projet|dossier|partenariat|initiative)\b"
          r"|Diese[rs]? (?:Artikel|Beitrag|Text|Kolumne|Interview) (?:ist|gehört zu) (?:Teil )?(?:der|des"
          r"|unserer|einer|eines)\b[^.!?]{0,120}?(?:Serie|Reihe|Projekt\w*|Kooperation|Schwerpunkt\w*)\b"
          r"|Quest[oa] (?:articolo|reportage|rubrica|intervista) fa parte d[ei]\w* [^.!?]{0,120}?"
          r"\b(?:serie|progetto|rubrica|speciale|iniziativa)\b"
          r"|Est[ae] (?:reportagem|matéria|coluna|texto|entrevista) (?:faz parte|é parte) d[aeo]s?"
          r" [^.!?]{0,120}?"
          r"\b(?:série|projeto|especial|iniciativa|parceria)\b)"
          rf"(?![^.!?]*\b{_SAID}\b)[^.!?]{{0,200}}[.!](?: [^.!?]{{0,200}}[.!])?"),
    # a letter's or a newsletter's signature: "— Marianne", "-- The Editors" (a dash list's last item is
    # never taken: a list follows a line ending with ":")
    _rule("signoff_name", "end_note", 50, rf"(?:[—–]|--) ?{_NAME}"),
    # an organisation's box run in as one paragraph: "About the UN in Lao PDR: The United Nations works
    # with ...", "À propos de X : X est ..." (not "About 40 per cent: ...": a name or "the" follows)
    _rule("about_box", "end_note", 600,
          r"(?:About|ABOUT|À propos d(?:e |u |es |')|Acerca de|Sobre|Über|Informazioni su)"
          r" (?:the |The |us|Us|US|la |el |le |l'|die |der |das |o |a )?[A-ZÀ-Þ][^:.!?]{0,80} ?: [A-ZÀ-Þ]"
          r".{20,500}"),
    # -- section label (positional: only ever the last blocks of the body) -------------------------------
    _rule("section_label", "section_label", 40,
          rf"(?P<section>(?:{_TITLE_WORD} (?:& |and )?){{0,2}}{_SECTION_WORD}"
          rf"(?: (?:& |and )?{_TITLE_WORD}){{0,2}}|{_TITLE_WORD}(?: {_TITLE_WORD})? [Nn]ews)"),
    # -- HTML class / id tokens (lower-cased) -------------------------------------------------------------
    _rule("noise_class", "noise_class", 100,
          r"(?:ads?|advert\w*|adsbygoogle|dfp|ad[-_]\w[\w-]*|(?:social[-_])?shar(?:e|ing)(?:[-_]\w[\w-]*)?"
          r"|share(?:bar|tools|buttons|links)|[\w-]*newsletter[\w-]*|cookie[\w-]*|paywall[\w-]*"
          r"|promo(?:[-_][\w-]*)?|byline[\w-]*|dateline|timestamp|comments?(?:[-_]count)?|twitter-tweet"
          r"|sponsor(?:ed)?(?:[-_][\w-]*)?|(?:site-|page-|email-)?footer|preheader|consent[\w-]*"
          r"|author[-_]?(?:box|bio|info|card|details|profile)[\w-]*|about[-_]the[-_]author|pin-?it[\w-]*"
          r"|subscri(?:be|ption)(?:[-_][\w-]*)?"
          r"|instagram-media|tiktok-embed|more-link|continue-?reading[\w-]*"
          r"|screen-?reader-?text|pull-?quotes?|pullout|claim-(?:card|box|label|text|review)[\w-]*"
          r"|rating(?:-label|-box|-card)?|tip-?line[\w-]*"
          r"|sr-only|visually-?hidden"
          # appeals and prompts that are never the article: a donate or membership box, an error-report note
          r"|donat(?:e|ion|ions)(?:[-_][\w-]*)?|fundrais\w*|membership(?:[-_][\w-]*)?|support-us[\w-]*"
          r"|(?:report[-_]?(?:an?[-_])?)?(?:error|typo|mistake)[-_]?(?:note|report|notice|box|link)s?"
          r"|report[-_](?:an?[-_])?(?:error|typo|mistake)s?)"),
    _rule("credit_class", "credit_class", 100, r"[\w-]*(?:credit|copyright)[\w-]*"),
    # a caption outside any <figure>: "wp-caption-text", Spanish "pie (de foto)", "légende", "didascalia"
    _rule("caption_class", "caption_class", 100,
          r"[\w-]*(?:caption|cutline)[\w-]*|pie(?:[-_]?(?:de[-_]?)?foto)?|l[ée]gende|legenda|didascalia"
          r"|bildunterschrift|bildtext"),
    _rule("related_class", "related_class", 100,
          # (after a plugin's short prefix: Jetpack's "jp-relatedposts", "td-related", "wp-related")
          r"(?:[a-z]{1,4}[-_])?(?:related|more-?from|more-?stories|more-?on|most-?read|most-?popular"
          # "read-more": a "Read more: <a>Headline</a>" line, or a "Read more »" button (boilerplate, dropped)
          r"|recommended|read-?more"
          r"|a-?lire|voir-?aussi)[\w-]*"
          # the same containers named in es / pt / de / it, after any prefix ("box-correlati",
          # "noticias-relacionadas", "mas-leidas")
          r"|[\w-]*?(?:correlat[oie]|relacionad[oa]s?|lies-?auch|meistgelesen|mas-?leid[oa]s|mais-?lid[oa]s"
          r"|plus-?lus|piu-?lett[ie]|leia-?tambem|lee-?tambien|leggi-?anche|vedi-?anche|mira-?tambien"
          r"|ver-?tambien|veja-?tambem|recomendamos|mehr-?aus|a-?voir)[\w-]*"),
)
# fmt: on

_BLOCK_KINDS = frozenset({"keep", "credit", "related_heading", "tag_heading", "related_link", "boilerplate"})
_CLASS_KINDS = ("noise_class", "credit_class", "related_class", "caption_class")
KINDS = (
    "keep",
    "credit",
    "related_heading",
    "tag_heading",
    "related_link",
    "boilerplate",
    "section_label",
    "end_note",
    *_CLASS_KINDS,
)
# The named groups a rule of each kind may use (all optional): what the block gives to the Extract.
RULES_FILE = "boilerplate.yaml"  # bundled in newsbeam.configs: the default of clean.rules_path
_GROUPS = {"credit": {"credit"}, "related_heading": {"section"}, "related_link": {"title"}}
_GROUPS["section_label"] = {"section"}
_DEFAULT_MAX_LEN = {
    "keep": 2000,
    "boilerplate": 300,
    "credit": 140,
    "related_heading": 80,
    "related_link": 240,
}
_DEFAULT_MAX_LEN["tag_heading"] = 40
_DEFAULT_MAX_LEN |= {"section_label": 40, "end_note": 320}
_DEFAULT_MAX_LEN |= dict.fromkeys(_CLASS_KINDS, 100)


# Every built-in credit holds one of these (credit rules are at most 140 characters long). Substring
# tests (C-speed) rather than one regex alternation, which sre tries at every position.
_CREDIT_HINTS = (
    "/", "©", "(", "[", "Pic", "PIC", "Photo", "Foto", "PHOTO", "FOTO", "ILLUSTRATION", "Picture", "Image",
    "Illustration", "File", "Credit", "Bild", "IMAGE", "Visuali", "Render", "Grafik", "Graphic", "Infogra",
    "Ilustra", "Illustra",
)  # fmt: skip
# one scan in C of a block's last 145 characters (a hint must start there; it always ends in the block)
_CREDIT_HINT = re.compile("|".join(map(re.escape, _CREDIT_HINTS)))
_NEVER = re.compile("(?!)")
_WEAK_CREDITS = frozenset({"credit_bare_agency"})  # "... said on Monday. (AFP)" is a sign-off, not a caption
_GROUP_NAME = re.compile(r"\(\?P<(\w+)>")


def _fusible(source: str) -> bool:
    """Whether a pattern keeps its meaning inside a larger alternation: not when it holds a back-reference
    or a conditional group (group numbers and names move there). Escapes are skipped, so "\\(?(?:" is an
    optional "(" and a group; anything unsure (a "(?(" inside a class) just stays unfused."""
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\":
            if i + 1 < n and source[i + 1] in "123456789":
                return False
            i += 2
            continue
        if char == "(" and source.startswith(("(?P=", "(?("), i):
            return False
        i += 1
    return True


class _Alternation(NamedTuple):
    fullmatch: Callable[[str], re.Match[str] | None]  # the fused pattern's (or a lone rule's)
    max_len: int  # longer strings are not tried (a fused pattern's branches test their own max_len)
    # branch group -> (rule, (its group, the group's name in the fused pattern) pairs); a lone rule: None ->
    rules: dict[str | None, tuple[Rule, tuple[tuple[str, str], ...]]]


# Upper bounds of the length classes a RuleMatcher compiles one alternation for (the last class runs to
# its longest max_len): chrome lines (labels, credits, bylines), prompts and sign-offs, the rest. Each
# class costs a compilation (about 0.1 s for the first); more classes saved little (a string only tries
# the rules whose max_len reaches into its class, the rest fail on their O(1) guard).
_LENGTH_CLASSES = (120, 300)
# Strings up to this long (labels, credits, prompts, teaser titles: most of them chrome that repeats from
# item to item, and the costliest to try, as most rules can start a short string) are matched once per
# matcher; at most _MEMO_SIZE are kept (the memo is emptied when full).
_MEMO_MAX_LEN = 120
_MEMO_SIZE = 4096


class RuleMatcher:
    """Rules tried in order against a whole string, the first that matches wins: `match(text)` ->
    (rule, {group: value}) or None. A rule is only tried on a string no longer than its max_len.

    Done as a few fused alternations instead of a Python loop over the rules: per length class, the
    rules that can apply there become `(?P<_r3>(?=.{0,60}+\\Z)...)|(?P<_r4>...)|...`, their named groups
    renamed (`_r3_credit`, ...), compiled on first use. sre tries the branches in order and backtracks
    into the next one when a branch cannot match the whole string, exactly as the loop did; the
    possessive length guard costs O(1), and no Python call is made per rule (most of the loop's cost on
    a narrative paragraph, which no rule matches). A rule that cannot be fused (global inline flags,
    back-references) is matched on its own, in its place.
    """

    def __init__(self, rules: Iterable[Rule], length_classes: tuple[int, ...] = _LENGTH_CLASSES) -> None:
        self.rules = tuple(rules)
        self.max_len = max((r.max_len for r in self.rules), default=0)
        self._bounds = [b for b in length_classes if b < self.max_len] + [self.max_len]
        self._classes: list[tuple[_Alternation, ...] | None] = [None] * len(self._bounds)
        self._memo: dict[str, tuple[Rule, dict[str, str | None]] | None] = {}

    def match(self, text: str) -> tuple[Rule, dict[str, str | None]] | None:
        """The first rule that matches all of `text`, and its groups (a dict the caller must not change:
        a short string's answer is remembered, as chrome lines repeat from item to item)."""
        size = len(text)
        if size > self.max_len:
            return None
        if size <= _MEMO_MAX_LEN:
            memo = self._memo
            if text in memo:
                return memo[text]
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            found = memo[text] = self._match(text, size)
            return found
        return self._match(text, size)

    def _match(self, text: str, size: int) -> tuple[Rule, dict[str, str | None]] | None:
        k = bisect.bisect_left(self._bounds, size)
        alternations = self._classes[k]
        if alternations is None:
            alternations = self._classes[k] = self._fuse(self._bounds[k - 1] if k else -1, self._bounds[k])
        for alternation in alternations:
            if size <= alternation.max_len and (found := alternation.fullmatch(text)):
                rule, groups = alternation.rules[found.lastgroup if None not in alternation.rules else None]
                return rule, {name: found.group(renamed) for name, renamed in groups}
        return None

    def _fuse(self, lower: int, upper: int) -> tuple[_Alternation, ...]:
        """The alternations for strings longer than `lower` and at most `upper` characters long."""
        alternations: list[_Alternation] = []
        branches: list[str] = []
        members: dict[str | None, tuple[Rule, tuple[tuple[str, str], ...]]] = {}

        def close() -> None:
            if not branches:
                return
            try:
                pattern = re.compile("|".join(branches))
            except re.error:  # e.g. a "(?u)" that is only allowed at the start of a pattern
                pattern = _NEVER
            expected = {
                name for branch, (_, groups) in members.items() for name in (branch, *dict(groups).values())
            }
            if set(pattern.groupindex) == expected:
                alternations.append(_Alternation(pattern.fullmatch, upper, dict(members)))
            else:  # a group the renaming missed or invented: no fusion for these rules
                alternations.extend(_alone(rule) for rule, _ in members.values())
            branches.clear()
            members.clear()

        for i, rule in enumerate(self.rules):
            if rule.max_len <= lower:
                continue
            source = rule.pattern.pattern
            if rule.pattern.flags != re.UNICODE or not _fusible(source):
                close()
                alternations.append(_alone(rule))
                continue
            branch = f"_r{i}"
            renamed = _GROUP_NAME.sub(f"(?P<{branch}_" + r"\1>", source)
            guard = f"(?=(?s:.){{0,{rule.max_len}}}+\\Z)" if rule.max_len < upper else ""
            branches.append(f"(?P<{branch}>{guard}(?:{renamed}))")
            members[branch] = (rule, tuple((name, f"{branch}_{name}") for name in rule.pattern.groupindex))
        close()
        return tuple(alternations)


def _alone(rule: Rule) -> _Alternation:
    groups = tuple((name, name) for name in rule.pattern.groupindex)
    return _Alternation(rule.pattern.fullmatch, rule.max_len, {None: (rule, groups)})


class RuleSet:
    """A compiled rule table: the built-in RULES, plus the rules of a rules file (`load_rules`), plus a
    site's or a feed's own (`for_source`, `with_rules`). Added rules are tried before the ones they
    extend, so a site rule can claim a block a general rule would treat otherwise; `keep` rules are tried
    first of all (a block they match is narrative, whatever else matches it).

    Immutable once built; derived sets are cached, so asking for the same site again costs a dict lookup.
    """

    def __init__(self, rules: Iterable[Rule], sites: dict[str, SiteRules] | None = None) -> None:
        self.rules = tuple(rules)
        self.sites = dict(sites or {})
        blocks = [r for r in self.rules if r.kind == "keep"] + [
            r for r in self.rules if r.kind in _BLOCK_KINDS and r.kind != "keep"
        ]
        self.blocks = RuleMatcher(blocks)
        self.credit_rules = tuple(r for r in self.rules if r.kind == "credit")
        # (credits and labels are short: one length class, one compilation each)
        self.credits = RuleMatcher(self.credit_rules, ())
        # a caption line's last clause: the credit rules but the weak ones ("... on Monday. (AFP)")
        self.strong_credits = RuleMatcher((r for r in self.credit_rules if r.name not in _WEAK_CREDITS), ())
        # What every built-in credit holds: a cheap test on a block's end before the credit rules run on
        # each of its clauses. A table with credit rules of its own cannot know, and tests every block.
        builtin = {r.name for r in RULES}
        self.credits_hinted = all(r.name in builtin for r in self.credit_rules)
        self.section_labels = RuleMatcher((r for r in self.rules if r.kind == "section_label"), ())
        self.end_notes = RuleMatcher((r for r in self.rules if r.kind == "end_note"), ())
        # One pattern per class kind: the alternation of its rules (class tokens are tested per element).
        noise, credit, related, caption = (
            re.compile("|".join(f"(?:{r.pattern.pattern})" for r in self.rules if r.kind == kind) or "(?!)")
            for kind in _CLASS_KINDS
        )
        self.noise_class, self.credit_class, self.related_class, self.caption_class = (
            noise.fullmatch,
            credit.fullmatch,
            related.fullmatch,
            caption.fullmatch,
        )
        self._derived: dict[object, RuleSet] = {}
        # (class, id) attribute values -> what they make an element (see _element_role)
        self.class_roles: dict[tuple[str | None, str | None], int] = {}

    def with_rules(self, extra: SiteRules | None) -> RuleSet:
        """This table with `extra`'s rules in front and its disabled rules taken out."""
        if not extra:
            return self
        derived = self._derived.get(extra)
        if derived is None:
            disabled = set(extra.disable)
            added = tuple(compile_rule(spec) for spec in extra.add)
            kept = tuple(rule for rule in self.rules if rule.name not in disabled)
            derived = self._derived[extra] = RuleSet(added + kept, self.sites)
        return derived

    def for_source(self, source: str | None) -> RuleSet:
        """The table for one site: its `sites:` entry (keyed by registered domain) applied, if it has one."""
        site = self.sites.get(source) if source else None
        return self.with_rules(site) if site else self

    def __repr__(self) -> str:
        return f"RuleSet({len(self.rules)} rules, {len(self.sites)} sites)"


BUILTIN_RULES = RuleSet(RULES)


def compile_rule(spec: RuleSpec) -> Rule:
    return Rule(spec.name, spec.kind, re.compile(spec.pattern), spec.max_len)


def parse_site_rules(doc: object, where: str) -> SiteRules:
    """A rules section of a rules file or a feed list, validated: raises ValueError naming the key.

    Shape: `{<kind>: [pattern | {pattern, max_len, name}], disable: [rule name, ...]}`, e.g.
    `{"boilerplate": ["Listen to the .{1,40} podcast.*"], "disable": ["section_label"]}`.
    """
    if doc is None:
        return SiteRules()
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: expected a mapping of rule kinds to lists, not {type(doc).__name__}")
    added: list[RuleSpec] = []
    disable: tuple[str, ...] = ()
    for kind, items in doc.items():
        key = f"{where}.{kind}"
        if kind != "disable" and kind not in KINDS:
            raise ValueError(f"{key}: unknown key (expected one of: {', '.join(KINDS)}, disable)")
        if not isinstance(items, list):
            raise ValueError(f"{key}: expected a list")
        if kind == "disable":
            if not all(isinstance(name, str) and name for name in items):
                raise ValueError(f"{key}: expected a list of rule names")
            disable = tuple(items)
            continue
        for i, item in enumerate(items):
            added.append(_parse_rule(item, str(kind), f"{key}[{i}]"))
    return SiteRules(tuple(added), disable)


def _parse_rule(item: object, kind: str, where: str) -> RuleSpec:
    if isinstance(item, str):
        item = {"pattern": item}
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a pattern or a mapping with `pattern`")
    unknown = set(item) - {"pattern", "max_len", "name"}
    if unknown:
        raise ValueError(f"{where}.{sorted(unknown)[0]}: unknown key (expected pattern, max_len, name)")
    pattern, max_len = item.get("pattern"), item.get("max_len", _DEFAULT_MAX_LEN[kind])
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{where}.pattern: expected a non-empty regular expression")
    if not isinstance(max_len, int) or isinstance(max_len, bool) or not 0 < max_len <= 5000:
        raise ValueError(f"{where}.max_len: expected a whole number from 1 to 5000")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}.pattern: not a valid regular expression ({exc})") from None
    extra_groups = set(compiled.groupindex) - _GROUPS.get(kind, set())
    if extra_groups:
        allowed = ", ".join(sorted(_GROUPS.get(kind, ()))) or "none"
        raise ValueError(
            f"{where}.pattern: named group {sorted(extra_groups)[0]!r} not used by {kind} ({allowed})"
        )
    if compiled.fullmatch(""):
        raise ValueError(f"{where}.pattern: matches the empty string")
    return RuleSpec(str(item.get("name") or where), kind, pattern, max_len)


def _read_package_text(name: str) -> str:
    return importlib.resources.files("newsbeam.configs").joinpath(name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> RuleSet:
    """The built-in rules plus a rules file (default: the bundled configs/boilerplate.yaml), validated.

    Raises ValueError naming the key: `boilerplate.yaml: sites.example.com.credit[0].pattern: not a valid
    regular expression (...)`. One table per worker process (cached by path).
    """
    where = "boilerplate.yaml" if path is None else str(path)
    text = _read_package_text(RULES_FILE) if path is None else Path(path).read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    doc = {} if doc is None else doc
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: expected a mapping with `rules` and / or `sites`")
    unknown = set(doc) - {"rules", "sites"}
    if unknown:
        raise ValueError(f"{where}: {sorted(unknown)[0]}: unknown key (expected rules, sites)")
    general = parse_site_rules(doc.get("rules"), f"{where}: rules")
    sites_doc = doc.get("sites") or {}
    if not isinstance(sites_doc, dict):
        raise ValueError(f"{where}: sites: expected a mapping of domains to rules")
    sites = {}
    for domain, section in sites_doc.items():
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
            raise ValueError(f"{where}: sites.{domain}: expected a lower-case domain such as example.co.uk")
        sites[domain] = parse_site_rules(section, f"{where}: sites.{domain}")
    known = {rule.name for rule in RULES} | {spec.name for spec in general.add}
    for name, section in [("rules", general), *((f"sites.{d}", s) for d, s in sites.items())]:
        unknown_names = [
            n for n in section.disable if n not in known and n not in {s.name for s in section.add}
        ]
        if unknown_names:
            raise ValueError(f"{where}: {name}.disable: no rule named {unknown_names[0]!r}")
    return RuleSet(BUILTIN_RULES.with_rules(general).rules, sites)


_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?\.[a-z0-9\-]+")

# --------------------------------------------------------------------------------------------------------
# Markup and layout (structure, not content rules)
# --------------------------------------------------------------------------------------------------------
# A tag, a comment, a doctype or a processing instruction. A comment that holds "<" is stripped in two
# passes (its inner tags first), which keeps every scan stopping at the next "<": linear on any input.
_TAG = re.compile(r"<(?:/?[A-Za-z][\w:.\-]*(?:[\s/][^<>]*)?|![^<>]*|\?[^<>]*)>")
# What makes `extract` read a string as HTML: a tag on one line. Everything it finds `_TAG` strips, and it
# cannot span the blank line between two paragraphs ("<A" + "\n\n" + ">"), so a cleaned body is always
# re-read as plain text (idempotence).
_TAG_ON_ONE_LINE = re.compile(r"<(?:/?[A-Za-z][\w:.\-]*(?:[\t /][^<>\n]*)?|![^<>\n]*|\?[^<>\n]*)>")
_BREAKING_TAG = re.compile(r"</?(?:br|p|div|li|h[1-6]|tr|td|th|blockquote|dd|dt)\b", re.I)
_ESCAPED_HTML = re.compile(r"&lt;/?(?:p|div|br|span|a|h[1-6]|ul|ol|li|figure|img|strong|em)\b", re.I)
_AMP_CHAIN = re.compile(r"&(?:amp;)+", re.I)
# C0/C1 controls (but not tab / newlines), zero-width space / word joiner / BOM, lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x84\x86-\x9f\u200b\u2060\ufeff\ud800-\udfff]")
# the ASCII characters str.isprintable rejects, but line breaks and tabs (_strip_controls); and those with
# "&" and "<" (a block that holds none of _NOT_PLAIN needs no entity decoded, no tag stripped, no repair)
_ASCII_CONTROLS = bytes(c for c in range(0x20) if c not in b"\t\n\r") + b"\x7f"
_NOT_PLAIN = bytes(range(0x20)) + b"\x7f&<"
_SPACES = re.compile(r"  +")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BULLET_LINE = re.compile(r"\n(?=[ \t]*(?:[•·▪●◦‣∙]|\*[ \t]))")
_BULLET = re.compile(r"[ \t]*(?:[•·▪●◦‣∙]|\*[ \t])[ \t]*")
_LEADING_BULLETS = re.compile(r"(?:[•·▪●◦‣∙] ?|\* )+")
_BULLET_STARTS = frozenset("•·▪●◦‣∙*")  # what _LEADING_BULLETS can start with
_CREDIT_SLASH = re.compile(r"\s*/\s*")
_CAPTION_SPLIT = re.compile(r"(?:[.!?:;|–—]\s+|\s+(?=[(\[]))")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HEADLINE_END = (".", "!", "?", ":", ";", ",", '"', "”", "’", "'", "»", "…")
# How a paragraph of running text ends (after quotes are straightened), in the scripts of the samples.
_SENTENCE_END = (".", "!", "?", "…", '"', "'", "»", ")", "]", ":", ";", "。", "！", "？", "।", "۔", "؟")
# A caption's credit follows a sentence end, a dash, or opens a bracket / a copyright sign.
_TAIL_SPLIT = re.compile(r"[.!?]\s+|\s+[—–-]\s*|\s+(?=[(\[©])")
# A figure caption that ends, after its sentence, with a name alone in brackets names its source:
# "A bus waits at a stop. (PHOTO NOT FOR SALE) (Hanriver Wire)". Not "(File)" and its kin.
_CAPTION_TAIL_NAME = re.compile(
    rf"[.!?)] \((?!(?:File|Archive|Archives|Illustration|Screenshot|Screengrab)\))"
    rf"(?P<credit>{_NAME}|{_UPPER_NAME})\)\.?$"
)
_CAPTION_MAX_LEN = 300
# The link a truncated teaser ends with, after its ellipsis: the ellipsis stays, it says the text is cut.
_TEASER_LINK = re.compile(
    r"(?:(?<=…)|(?<=\.\.\.))\s*(?:\[(?:…|\.\.\.)\]\s*)?"
    r"(?i:read more|continue reading|read the full (?:story|article)|more|weiterlesen|lire la suite|leer más)"
    r"\W{0,3}$"
)
# A teaser list's item number ("1. Headline", "2) Headline") and a carousel's controls.
_LIST_NUMBER = re.compile(r"\d{1,2}[.)] (?=\S)")
_CAROUSEL_CONTROL = re.compile(
    r"\d{1,3}|(?i:prev(?:ious)?|next|more|see all|view all|show more|load more)|[‹›«»<>←→]+"
)
_HEADER_MAX_LEN = 200
_FOOTER_MAX_LEN = 80
# A trailing label in any language: one to four capitalised words ("Wirtschaft", "US & Canada").
_LABEL = re.compile(r"[A-ZÀ-ÞĀ-Ž][\w'’\-]*(?: (?:&|and|[A-ZÀ-ÞĀ-Ž][\w'’\-]*)){0,3}")

# Entities are decoded beforehand (ftfy's "auto" would skip any text holding a "<"); full-width forms stay
# as CJK text uses them.
_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=False, fix_character_width=False, explain=False)
# Curly quotes are straightened (ftfy's own set) so that one story from two CMSs reads the same.
_SINGLE_QUOTES = re.compile("[ʼ‘’‚‛]")
_DOUBLE_QUOTES = re.compile("[“”„‟]")


def _mojibake_hints() -> tuple[re.Pattern[str], ...]:
    """What any text ftfy would repair contains: UTF-8 read as one of ftfy's single-byte codepages puts a
    lead byte (0xC2-0xF4) next to a continuation byte (0x80-0xBF) or a space that replaced 0xA0; C1
    controls, ligatures and U+FFFD are ftfy's other cases. ftfy costs about 1 us per character, and clean
    text (even with accents, "’" or non-Latin scripts) almost never matches, so most text skips it."""
    codepages = (
        "latin-1",
        "cp1252",
        "cp1251",
        "cp1250",
        "cp1253",
        "cp1254",
        "cp1257",
        "iso8859-2",
        "mac-roman",
        "cp437",
    )
    lead = {c for cp in codepages for c in bytes(range(0xC2, 0xF5)).decode(cp, "ignore")}
    cont = {c for cp in codepages for c in bytes(range(0x80, 0xC0)).decode(cp, "ignore")}
    lead_a0 = {
        c
        for cp in codepages
        for c in bytes([0xC2, 0xC3, 0xC5, 0xCE, 0xD0, 0xD9, 0xE2, 0xE3, 0xF0]).decode(cp, "ignore")
    }

    def charset(chars: set[str]) -> str:
        return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"

    # Three patterns, not one alternation: sre tries every branch at every position, three times the cost.
    return (
        re.compile(charset(lead) + charset(cont)),
        re.compile(charset(lead_a0) + "[ \xa0]"),
        re.compile("[\x80-\x9f\ufb00-\ufb06\ufffd]"),
    )


_MOJIBAKE_HINTS = _mojibake_hints()
_LOST_RIGHT_QUOTE = re.compile("â€(?=[\\s,.;:!?]|$)")
_MAX_PASSES = 6  # fixpoint bound: real text settles in one or two passes; only adversarial input needs it

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "form",
        "button",
        "svg",
        "nav",
        "aside",
        "footer",
        "template",
        "object",
        "embed",
        "head",
        "title",
        "select",
        "textarea",
        "option",
        "datalist",
        "video",
        "audio",
        "canvas",
        "math",
        "map",
        "input",
        "label",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "br",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ITEM_TAGS = frozenset({"li", "article"})
_CAPTION_TAGS = frozenset({"figure", "figcaption"})

_T = TypeVar("_T")
# _Block.caption: inside a figure / inside an element marked as a credit (both: a credit in a figure)
_CAPTION, _CREDIT = 1, 2


@dataclass(frozen=True, slots=True)
class Extract:
    """What `extract` found in one item's content: the narrative and the chrome removed from it."""

    paragraphs: tuple[str, ...]
    credits: tuple[str, ...] = ()
    related: tuple[RelatedItem, ...] = ()
    section: str | None = None

    @property
    def body(self) -> str:
        """The paragraphs separated by one blank line: ("A.", "B.") -> "A.\\n\\nB."."""
        return "\n\n".join(self.paragraphs)


_new_block = tuple.__new__


class _Block(NamedTuple):
    text: str  # already normalised: clean_inline, leading bullets removed
    item: int = -1  # the list item (li / article / bullet) it belongs to, -1 outside lists
    link: str | None = None  # the first href inside the block
    heading: bool = False
    caption: int = 0
    teaser: bool = False  # inside an element whose class marks a teaser container
    link_text: str | None = None  # the text of that first link, as the markup gives it


# --------------------------------------------------------------------------------------------------------
# Inline text
# --------------------------------------------------------------------------------------------------------
def clean_inline(text: str | None) -> str:
    """Normalise a short string for display and comparison.

    `clean_inline("<b>Caf\u00c3\u00a9</b> &amp;amp; bar\\n  tabac")` -> `"Café & bar tabac"`.
    """
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if text.isascii() and text.isprintable() and "&" not in text and "<" not in text:
        return _squeeze_spaces(text)  # the common case, and the fast one
    # Each step can expose work for another (a decoded "&lt;b&gt;" is a tag, a stripped tag can join an
    # entity, a repair can reveal an entity), so run them to a fixpoint: clean_inline(clean_inline(x)) ==
    # clean_inline(x). A pass that ends with nothing left to decode and nothing repaired is one already.
    for _ in range(_MAX_PASSES):
        cleaned, settled = _clean_pass(text)
        if settled or cleaned == text:
            return cleaned
        text = cleaned
    return text


def _clean_pass(text: str) -> tuple[str, bool]:
    """One pass of clean_inline; True when the result is known to be a fixpoint."""
    if not text.isprintable():  # printable: no controls, no whitespace but " " (a C-speed test)
        text = _CONTROL.sub("", text)
    if "&" in text:
        text = html.unescape(_AMP_CHAIN.sub("&", text))
    if "<" in text:
        text = _TAG.sub(_tag_replacement, text)
    text = _squeeze_spaces(text) if text.isprintable() else " ".join(text.split())
    repaired = False
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        # On the text as it will be returned but for the quotes, which mojibake needs ("‚" is byte 0x82 in
        # cp1251) and whose ASCII replacements can make no new hint: a hint that finds nothing here finds
        # nothing next time.
        if any(hint.search(text) for hint in _MOJIBAKE_HINTS):
            # '”' is E2 80 9D; read as cp1252 it is "â€" plus an undefined byte that many tools drop, and
            # ftfy then takes the space after it for a lost 0xA0 ("†"). Put the byte back first.
            text = _LOST_RIGHT_QUOTE.sub("â€\x9d", text)
            fixed = ftfy.fix_text(text, _FTFY_CONFIG)
            repaired = fixed != text
            text = fixed
        text = _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", text))
    return text, not repaired and "&" not in text and "<" not in text


def _squeeze_spaces(text: str) -> str:
    if "  " in text:
        text = _SPACES.sub(" ", text)
    return text.strip(" ")


def _tag_replacement(match: re.Match[str]) -> str:
    # "a<br>b" is two words, "<b>Caf</b>é" is one.
    return " " if _BREAKING_TAG.match(match.group()) else ""


def _normalise_block(text: str) -> str:
    text = clean_inline(text)
    # Clean again after a bullet goes: what follows it can read differently alone (ftfy judges mojibake
    # on the whole string), and a block must be a fixpoint for extract to be idempotent.
    for _ in range(_MAX_PASSES):
        bullets = _LEADING_BULLETS.match(text) if text[:1] in _BULLET_STARTS else None
        if bullets is None:
            break
        text = clean_inline(text[bullets.end() :])
    return text


def _compare_key(text: str) -> str:
    return clean_inline(text).casefold().rstrip(" .")


# --------------------------------------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------------------------------------
def extract(
    markup: str | None,
    *,
    title: str | None = None,
    rules: RuleSet | None = None,
    drop_filter: DropFilter | None = None,
) -> Extract:
    """Split one item's content into its narrative paragraphs and the page chrome around them.

    `extract("<figure><figcaption>JOHN DOE/ AFP</figcaption></figure><p>Talks ended.</p>"
    "<h2>More from World news</h2><ul><li><a href='https://x.test/a'>Quake hits</a></li></ul>")`
    -> `Extract(paragraphs=("Talks ended.",), credits=("JOHN DOE/AFP",),
    related=(RelatedItem("Quake hits", "https://x.test/a"),), section="World news")`.

    `drop_filter` (e.g. transforms/clean_model.py's learned filter) is shown the paragraphs the rules
    keep, after the header and trailer are dropped and before the shape pass, with those a `keep` rule
    protects, and returns the indices to drop.
    """
    rules = rules or BUILTIN_RULES
    blocks = _candidate_blocks(markup, rules)
    return _sort_blocks(blocks, title, rules, drop_filter) if blocks is not None else Extract(())


def candidate_paragraphs(markup: str | None, rules: RuleSet | None = None) -> list[str]:
    """The blocks of an item's content before any rule sorts them, as `extract` sees them: what a
    learned filter (transforms/clean_model.py) is trained on, narrative and chrome alike."""
    blocks = _candidate_blocks(markup, rules or BUILTIN_RULES)
    return [block.text for block in blocks or ()]


def _candidate_blocks(markup: str | bytes | None, rules: RuleSet) -> list[_Block] | None:
    if isinstance(markup, bytes):
        markup = markup.decode("utf-8", "replace")
    if not markup or not isinstance(markup, str) or markup.isspace():
        return None
    markup = _strip_controls(markup)
    if _ESCAPED_HTML.search(markup) and not _TAG_ON_ONE_LINE.search(markup):
        # A CMS escaped its HTML once more than the feed format needed; read it as the HTML it is.
        markup = html.unescape(markup)
    blocks = _html_blocks(markup, rules) if _TAG_ON_ONE_LINE.search(markup) else _text_blocks(markup)
    return list(blocks)


def _strip_controls(text: str) -> str:
    """`text` without _CONTROL's characters. Every one of them is unprintable, so a text that is printable
    once its line breaks and tabs are blanked holds none: a C-speed test that spares most items the
    regex scan (about 7 ns a character). ASCII text (most markup) is tested as bytes, where deleting the
    unprintable ones and comparing lengths is a quarter of the cost of `str.isprintable` (about 4 ns a
    character)."""
    if text.isascii():
        if len(text.encode("ascii").translate(None, _ASCII_CONTROLS)) == len(text):
            return text
    elif text.replace("\n", " ").replace("\t", " ").replace("\r", " ").isprintable():
        return text
    return _CONTROL.sub("", text)


def _text_blocks(text: str) -> Iterator[_Block]:
    """Blocks of a plain-text dump: blank-line separated; '•' lines start list items, indented blocks after
    an item continue it (the teaser text under a teaser headline)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2029", "\n\n").replace("\u2028", "\n")
    item, next_item = -1, 0
    for chunk in _BLANK_LINE.split(text):
        for part in _BULLET_LINE.split(chunk):
            if not part or part.isspace():
                continue
            bullet = _BULLET.match(part)
            if bullet:
                item, next_item = next_item, next_item + 1
                part = part[bullet.end() :]
            elif item >= 0 and part[0] in " \t":
                pass  # continues the open item
            else:
                item = -1
            cleaned = _normalise_block(part)
            if cleaned:
                yield _Block(cleaned, item)


# lxml.html's parser is libxml2's HTML parser plus a Python element-class lookup per element; the plain
# etree.HTMLParser is the same parser without that cost. Nothing looks elements up by id, and the walk starts
# at the root element: no id table (a fifth of the parse time on feed items), no default doctype.
_PARSER = etree.HTMLParser(
    remove_comments=True,
    remove_pis=True,
    no_network=True,
    recover=True,
    huge_tree=True,
    encoding="utf-8",
    collect_ids=False,
    default_doctype=False,
)


def _parse_html(markup: str) -> etree._Element | None:
    """The document, or None when it holds no element at all (only comments, a doctype, stray end tags)."""
    # Bytes, not str: lxml refuses a str that carries an XML encoding declaration.
    return etree.fromstring(markup.encode("utf-8", "replace"), _PARSER)


_NOISE, _CREDIT_ELEMENT, _TEASER_ELEMENT, _CAPTION_ELEMENT = 1, 2, 4, 8
# What an open element is, as bit flags; _TAG_FLAGS holds what its tag alone says (-1: skip its subtree).
_IS_BLOCK, _IS_HEADING, _IS_CAPTION, _IS_CREDIT, _IS_ITEM, _IS_TEASER = 1, 2, 4, 8, 16, 32
_COUNTED = _IS_HEADING | _IS_CAPTION | _IS_CREDIT | _IS_ITEM | _IS_TEASER
_TAG_FLAGS = {
    tag: (
        -1
        if tag in _SKIP_TAGS
        else (
            (tag in _BLOCK_TAGS and _IS_BLOCK)
            | (tag in _HEADING_TAGS and _IS_HEADING)
            | (tag in _CAPTION_TAGS and _IS_CAPTION)
            | (tag in _ITEM_TAGS and _IS_ITEM)
        )
    )
    for tag in _SKIP_TAGS | _BLOCK_TAGS | _HEADING_TAGS | _CAPTION_TAGS | _ITEM_TAGS
}


_TEXT_OF = etree.XPath("string()", smart_strings=False)


def _element_role(attrib: etree._Attrib, rules: RuleSet) -> int:
    """What an element's attributes say it is: noise, a credit, a teaser container, a caption (bit flags)."""
    if "hidden" in attrib or attrib.get("aria-hidden") == "true":
        return _NOISE
    style = attrib.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return _NOISE
    names = attrib.get("class"), attrib.get("id")
    if not (names[0] or names[1]):
        return 0
    role = rules.class_roles.get(names)
    if role is None:  # a site uses few class names, over and over: each pair is tested once
        role = _class_role(names, rules)
        if len(rules.class_roles) >= _MEMO_SIZE:
            rules.class_roles.clear()
        rules.class_roles[names] = role
    return role


def _class_role(names: tuple[str | None, str | None], rules: RuleSet) -> int:
    role = 0
    for token in " ".join(name for name in names if name).lower().split():
        if rules.noise_class(token):
            return _NOISE
        if rules.credit_class(token):
            role |= _CREDIT_ELEMENT
        elif rules.related_class(token):
            role |= _TEASER_ELEMENT
        elif rules.caption_class(token):
            role |= _CAPTION_ELEMENT
    return role


def _teaser_aside(el: etree._Element, rules: RuleSet) -> bool:
    """An <aside> whose first heading is a related heading ("Mehr aus Münster", "Te recomendamos") holds
    teasers, whatever its class says."""
    for heading in el.iter("h2", "h3", "h4", "h5", "h6"):
        found = _classify(clean_inline(_TEXT_OF(heading)), rules)
        return found is not None and found[0].kind == "related_heading"
    return False


def _html_blocks(markup: str, rules: RuleSet) -> list[_Block]:
    """Blocks of an HTML fragment, in document order, walked without recursion (any nesting depth)."""
    try:
        root = _parse_html(markup)
    except (etree.LxmlError, ValueError):  # not seen with recover=True; keep the words rather than fail
        return list(_text_blocks(_TAG.sub(_tag_replacement, markup)))
    if root is None:
        return []
    blocks: list[_Block] = []
    buffer: list[str] = []
    link: str | None = None
    link_text: str | None = None
    headings = captions = credits = teasers = 0
    items: list[int] = []
    next_item = 0
    stack: list[int] = []  # per open element: its _IS_* flags, -1 for a skipped one

    def flush() -> None:
        nonlocal link, link_text
        if not buffer:
            return
        text = buffer[0] if len(buffer) == 1 else "".join(buffer)
        buffer.clear()
        # ASCII, printable, no "&" or "<" (as bytes: one C pass, not str.isprintable's slower one)
        if text.isascii() and len(text.encode("ascii").translate(None, _NOT_PLAIN)) == len(text):
            # _normalise_block's answer for such text, without its calls (most blocks are like this)
            if "  " in text:
                text = _SPACES.sub(" ", text)
            text = text.strip(" ")
            if not text or (text[0] == "*" and not (text := _normalise_block(text))):
                return
        elif text.isspace() or not (text := _normalise_block(text)):
            return
        caption = (_CREDIT | (_CAPTION if captions else 0)) if credits else _CAPTION if captions else 0
        # tuple.__new__ directly: a NamedTuple's own __new__ is a Python function
        block = (text, items[-1] if items else -1, link, headings > 0, caption, teasers > 0, link_text)
        blocks.append(_new_block(_Block, block))
        link = link_text = None

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        if event == "start":
            tag = el.tag
            flags = _TAG_FLAGS.get(tag, 0)
            if flags < 0 or not isinstance(tag, str):
                # an <aside> of teasers ("more-on", "related") is read as one; any other is skipped
                role = _element_role(el.attrib, rules) if tag == "aside" and el.attrib else 0
                if tag == "aside" and not role & (_NOISE | _TEASER_ELEMENT) and _teaser_aside(el, rules):
                    role |= _TEASER_ELEMENT
                if role & _TEASER_ELEMENT and not role & _NOISE:
                    flags = _IS_BLOCK | _IS_TEASER
                else:
                    walker.skip_subtree()
                    stack.append(-1)
                    continue
            attrib = el.attrib
            if attrib:
                role = _element_role(attrib, rules)
                if role:
                    if role & _NOISE:
                        walker.skip_subtree()
                        stack.append(-1)
                        continue
                    if role & _CREDIT_ELEMENT:
                        flags |= _IS_BLOCK | _IS_CREDIT
                    if role & _TEASER_ELEMENT:
                        flags |= _IS_BLOCK | _IS_TEASER
                    if role & _CAPTION_ELEMENT:
                        flags |= _IS_BLOCK | _IS_CAPTION
            if captions and (tag == "cite" or tag == "small"):
                flags |= _IS_BLOCK | _IS_CREDIT
            elif teasers and tag == "a":  # a teaser's link is its headline, apart from any label
                flags |= _IS_BLOCK
            if flags:
                if flags & _IS_BLOCK and buffer:
                    flush()
                if flags & _COUNTED:
                    teasers += flags & _IS_TEASER and 1
                    headings += flags & _IS_HEADING and 1
                    captions += flags & _IS_CAPTION and 1
                    credits += flags & _IS_CREDIT and 1
                    if flags & _IS_ITEM:
                        items.append(next_item)
                        next_item += 1
            if tag == "a" and link is None and attrib:  # after the flush, which hands on the link it had
                link = el.get("href") or None
                if link:  # libxml2 gathers the link's text (a one-line "Read also <a>" is a teaser)
                    link_text = _TEXT_OF(el) if len(el) else el.text or ""
            stack.append(flags)
            text = el.text  # each read of .text / .tail builds a new str from libxml2's UTF-8
            # (blank text before a block's first word changes nothing: normalising strips it)
            if text and (buffer or not text.isspace()):
                buffer.append(text)
        else:
            flags = stack.pop()
            if flags > 0:
                if flags & _IS_BLOCK and buffer:
                    flush()
                if flags & _COUNTED:
                    teasers -= flags & _IS_TEASER and 1
                    headings -= flags & _IS_HEADING and 1
                    captions -= flags & _IS_CAPTION and 1
                    credits -= flags & _IS_CREDIT and 1
                    if flags & _IS_ITEM:
                        items.pop()
            tail = el.tail
            if tail and (buffer or not tail.isspace()):
                buffer.append(tail)
    flush()
    return blocks


def _classify(text: str, rules: RuleSet) -> tuple[Rule, dict[str, str | None]] | None:
    """The first rule that matches the whole block and its groups, or None (narrative; a `keep` rule
    also says so)."""
    found = rules.blocks.match(text)
    return None if found is None or found[0].kind == "keep" else found


def _group(groups: dict[str, str | None], name: str) -> str | None:
    return groups.get(name) or None


def _normalise_credit(text: str) -> str:
    text = _CREDIT_SLASH.sub("/", text).strip(" .;,")
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if "/" in text and (file_note := _FILE_NOTE.search(text)):
        text = text[: file_note.start()]
    return text


# "REUTERS/Jane Doe/File Photo": the last part says the picture is an old one, not who took it
_COPYRIGHT_MARK = re.compile(r"©|\([cC]\) |(?i:copyright)\b")
_YEAR = re.compile(r" ?(?:\d{4}|\(\d{4}\))\b")
_FILE_NOTE = re.compile(r"(?<=\S)/(?:File(?: Photo| Picture)?|FILE(?: PHOTO)?)$")


def _caption_credit(block: _Block, rules: RuleSet) -> str | None:
    """The credit inside a figure caption: the whole caption or its last clause ("... Photo: X/AFP")."""
    text = block.text
    starts = [0, *(m.end() for m in _CAPTION_SPLIT.finditer(text))]
    for start in starts:
        candidate = text[start:].lstrip("—–- ")  # "... on Saturday. - Photo by X"
        found = rules.credits.match(candidate)
        if found:
            return _normalise_credit(_group(found[1], "credit") or candidate)
    tail = _CAPTION_TAIL_NAME.search(text)
    if tail:
        return tail.group("credit")
    if block.caption & _CREDIT and len(text) <= 120:
        return _normalise_credit(text)
    return None


def _looks_like_headline(text: str) -> bool:
    return len(text) <= 160 and not text.endswith(_HEADLINE_END) and text.count(" ") < 20


def _teaser_items(blocks: list[_Block]) -> list[RelatedItem]:
    """One RelatedItem per list item: its heading (else linked, else first) block is the headline. A
    carousel's controls ("Previous", "1", "Next") are list items too, and no headline."""
    grouped: dict[int, list[_Block]] = {}
    for block in blocks:
        grouped.setdefault(block.item, []).append(block)
    related = []
    for members in grouped.values():
        if len(members) == 1:  # most items: one linked headline (no generators to build)
            head = members[0]
            url = head.link or None
        else:
            head = next((b for b in members if b.heading), None) or next(
                (b for b in members if b.link), members[0]
            )
            url = next((b.link for b in members if b.link), None)
        if _CAROUSEL_CONTROL.fullmatch(head.text):
            continue
        related.append(RelatedItem(head.text, url))
    return related


# (paragraphs the rules keep, those a `keep` rule protects) -> the indices of the paragraphs to drop
DropFilter = Callable[[list[str], set[str]], Iterable[int]]


def _sort_blocks(
    blocks: list[_Block], title: str | None, rules: RuleSet, drop_filter: DropFilter | None = None
) -> Extract:
    body: list[str] = []
    credits: list[str] = []
    related: list[RelatedItem] = []
    section: str | None = None
    title_key = _compare_key(title) if title else ""
    subheads: set[str] = set()  # body blocks that came from <h1>-<h6>
    kept: set[str] = set()  # body blocks a `keep` rule matched: narrative, whatever their shape
    story_end: int | None = None  # where "###", "-30-" or "END" closed the story (the body up to it)
    captions: set[str] = set()  # short lines next to a credit line of their own: a photo's caption
    after_credit = -2  # the index of the last block that was a credit line (none: -2, never i - 2)
    i, n = 0, len(blocks)
    while i < n:
        block = blocks[i]
        i += 1
        if block.teaser:  # first: a teaser's thumbnail credit is not this article's
            start = i - 1
            while i < n and blocks[i].teaser:
                i += 1
            section = _not_author(_teaser_container(blocks[start:i], related, rules), blocks) or section
            continue
        if block.caption:
            # the page's own copyright line in a "copyright" element outside any figure credits no picture:
            # the last one ("© Aarebote", "© Riproduzione riservata"), or one with a year wherever it is
            # ("Copyright 2024 High Desert Radio" above the tags); a figure's "© Jane Doe/AFP" does
            if (
                block.caption == _CREDIT
                and (found := _COPYRIGHT_MARK.match(block.text))
                and (i == n or _YEAR.match(block.text, found.end()))
            ):
                continue
            credit = _caption_credit(block, rules)
            if credit:
                credits.append(credit)
            continue
        found = rules.blocks.match(block.text)
        if found is not None and found[0].kind == "keep":
            kept.add(block.text)
            found = None
        if found is None:
            # every copy of the headline before the narrative (a page may repeat it: <h1> and a title line);
            # dropping only the first would leave one that a second cleaning drops
            if not body and title_key and _compare_key(block.text) == title_key:
                continue
            credit = _tail_credit(block.text, rules) if len(block.text) <= _CAPTION_MAX_LEN else None
            if credit:  # a photo caption outside any figure: "Smoke rises over Rafah. (AFP/Jane Doe)"
                credits.append(credit)
            elif block.link_text and (headline := _labelled_link(block, rules)):
                related.append(RelatedItem(headline, block.link))
            else:
                body.append(block.text)
                if after_credit == i - 2 and block.text.count(" ") < _SUBHEAD_MAX_WORDS:
                    captions.add(block.text)
                if block.heading:
                    subheads.add(block.text)
            continue
        rule, groups = found
        if rule.kind == "credit":
            credits.append(_normalise_credit(_group(groups, "credit") or block.text))
            if rule.name not in _WEAK_CREDITS:
                after_credit = i - 1
        elif rule.kind == "related_link":
            related.append(RelatedItem(_group(groups, "title") or block.text, block.link))
        elif rule.kind == "related_heading":
            section = section or _not_author(_group(groups, "section"), blocks)
            i = _consume_teasers(blocks, i, related, rules)
        elif rule.kind == "tag_heading":
            i = _consume_tags(blocks, i, rules)
        elif rule.name == "story_end" and body and story_end is None and block.text in _RELEASE_ENDS:
            story_end = len(body)
        elif rule.name == "advertisement" and _SPONSORED.search(block.text):
            i = _skip_cut_cards(blocks, i)
        elif rule.name == "release_notes" and body and story_end is None:
            story_end = len(body)  # a release's notes to editors, its "About" box and contacts follow
        # boilerplate: dropped
    if story_end is not None:
        del body[story_end:]
    header = _drop_header(body) if title_key else []
    footer_label = _drop_trailer(body, rules)
    section = section or footer_label or _leading_section(blocks, header, title_key, rules)
    # "... repairs… Read more"; the link follows an ellipsis, and the regex is slow to find none
    last = body[-1] if body else ""
    if ("…" in last or "..." in last) and (teaser_link := _TEASER_LINK.search(last)):
        body[-1] = last[: teaser_link.start()]
    # a loop, so that extract(extract(x).body) strips nothing more; a lone block is the article itself
    while len(body) > 1:
        label = _section_label(body[-1], rules)
        if label is None:
            break
        body.pop()
        section = section or label
    if drop_filter is not None and len(body) > 1:
        # after the header, trailer and section are read (the filter changes none of them), before the
        # shape pass, which reads a paragraph's neighbours: on a second pass over the output it is shown
        # what it was shown on the first, minus what was dropped
        dropped = set(drop_filter(body, kept))
        if dropped:
            body[:] = [p for j, p in enumerate(body) if j not in dropped]
    _drop_non_narrative(body, subheads | captions, kept, keep_header=not title_key)
    return Extract(tuple(body), _unique(credits), _unique(related), section)


# what ends a press release's story: its notes to editors, boilerplate and contacts follow ("(END)" may
# close one wire story of several)
_RELEASE_ENDS = frozenset({"###", "# # #", "-30-", "- 30 -"})


def _ends_sentence(text: str) -> bool:
    return text.endswith(_SENTENCE_END)


def _drop_non_narrative(body: list[str], subheads: set[str], kept: set[str], *, keep_header: bool) -> None:
    """Drop what the shape of a block, not its wording, shows to be no narrative paragraph: subheads (an
    HTML heading; a short line that does not end like a sentence: kickers, labels, buttons, stamps, live-blog
    entry headlines; two or more short one-question lines, an explainer's subheads), table lines (mostly
    figures, no sentence end) and pull quotes (a block whose text, without its quote marks, recurs inside a
    longer block). On the labelled set no narrative paragraph has any of these shapes (the only one that
    ends without sentence punctuation has 17 words), while most of the chrome that wordings missed has.
    Lines after one ending with ":" are its list and stay, as do a lone block (the article itself,
    whatever it says) and blocks a `keep` rule matched. Without a title (`keep_header`) the lines before
    the first sentence stay, as _drop_header leaves them: the headline is among them."""
    if len(body) < 2:
        return
    start = next((i for i, p in enumerate(body) if _ends_sentence(p)), len(body)) if keep_header else 0
    questions = [
        i for i in range(start, len(body)) if body[i][-1] == "?" and _QUESTION_SUBHEAD.fullmatch(body[i])
    ]
    shaped = set(questions) if len(questions) >= 2 else set()  # what plain text shows
    headings: set[int] = set()  # what only the markup shows
    in_list = False
    folded = ""
    for i in range(start, len(body)):
        text = body[i]
        if kept and text in kept:
            shaped.discard(i)
            continue
        if subheads and text in subheads and text.count(" ") < _SUBHEAD_MAX_WORDS and not text.endswith(":"):
            headings.add(i)
        if text[-1] == ":" and _SUMMARY_HEADING.fullmatch(text):
            # a live blog's or explainer's summary box: its heading and the short lines under it, unlike the
            # list a sentence introduces ("The candidates are:"), which stays
            shaped.add(i)
            in_list = False
            continue
        if text.endswith(_SENTENCE_END) and not (
            text.count(" ") < _SUBHEAD_MAX_WORDS and (_hollow_end(text) or _widget_label(text))
        ):
            in_list = text.endswith(":")
            if not in_list and len(text) <= _PULL_QUOTE_MAX_LEN and text.count(" ") >= 3:
                # its words, without the quote marks and final stop a pull quote adds, inside a longer
                # block (a C-speed count first: most blocks repeat nowhere)
                folded = folded or "\n".join(body).casefold()
                core = text.casefold().strip(_QUOTE_MARKS)
                if folded.count(core) >= 2 and any(
                    len(other) > len(text) and core in other.casefold() for other in body
                ):
                    shaped.add(i)
        elif _widget_label(text):  # "Share:", "Like this:": a widget's label, and no list follows it
            shaped.add(i)
            in_list = False
        elif not in_list and (text.count(" ") < _SUBHEAD_MAX_WORDS or _is_table_line(text)):
            shaped.add(i)
    # Never all of it. Headings are given up first: a second pass over the text no longer sees them, and
    # must drop nothing more (extract is idempotent).
    drop = shaped | headings
    if len(drop) >= len(body):
        drop = shaped if len(shaped) < len(body) else set()
    if drop:
        body[:] = [p for i, p in enumerate(body) if i not in drop]


# the heading of a summary box, in en/es/fr/de/it/pt
_SUMMARY_HEADING = re.compile(
    r"(?i:what we know(?: so far)?|what (?:you|we) need to know|key (?:points|facts)|the key points"
    r"|at a glance|the latest|in brief|lo que sabemos(?: hasta ahora)?|lo que (?:hay que|debes) saber|claves"
    r"|en resumen|ce que l'on sait|ce qu'on sait|ce qu'il faut savoir|l'essentiel|en bref|was wir wissen"
    r"|das wichtigste(?: in kürze)?|auf einen blick|cosa sappiamo|quello che sappiamo|in sintesi"
    r"|o que (?:se sabe|sabemos)|em resumo|resumo) ?:"
)
_SUBHEAD_MAX_WORDS = 12  # a line of up to 12 words (fewer than 12 spaces): subheads, labels, stamps
_PULL_QUOTE_MAX_LEN = 200
# "¿Por qué hay apagones?", "What happens next?": one short question alone on its line
_QUESTION_SUBHEAD = re.compile(r"¿?[^\s?.!;:]+(?: [^\s?.!;:]+){0,9}\?")
_QUOTE_MARKS = "\"'“”‘’«»„‹› .,;:!?…"


_CLOSING_MARKS = ")]\"'»”’›"
_WIDGET_LABEL_MAX_WORDS = 2  # "Share:", "Like this:"; "The candidates are:" introduces a list
# a sentence's end before what closes a line: "... said. (AFP)", '"Never," she said."', "Nobody came…"
_SENTENCE_MARK = re.compile(r"[.!?…](?=[\s)\]\"'»”’›]|$)")


def _hollow_end(text: str) -> bool:
    """Whether a line's end only looks like a sentence's: it ends with a closing mark and holds no
    sentence end at all ("Comentarios (8)", "(Avec AFP)", "'A terrible decision'", 'In "National"',
    "Listen (4 min 12 sec)"; not "... officials said. (AFP)"). On the labelled set every narrative
    paragraph ends with ".", "!" or "?", or with a closing quote right after one."""
    return text[-1] in _CLOSING_MARKS and _SENTENCE_MARK.search(text) is None


def _widget_label(text: str) -> bool:
    """A label of a few words that ends with ":" ("Share:", "Like this:", "Teilen:"): no list follows it."""
    return text[-1] == ":" and text.count(" ") < _WIDGET_LABEL_MAX_WORDS


def _is_table_line(text: str) -> bool:
    """A market or results table flattened to one line: "ZMW/USD 27.45 -1.8% ..." (a third of its
    characters figures or signs)."""
    figures = sum(map(text.count, "0123456789%+-"))
    return figures * 3 >= len(text)


def _tail_credit(text: str, rules: RuleSet) -> str | None:
    """The credit that ends a caption line, when a strong credit rule matches its last clause whole."""
    if rules.credits_hinted and not _CREDIT_HINT.search(text, len(text) - 145):
        return None
    for split in _TAIL_SPLIT.finditer(text):
        candidate = text[split.end() :].lstrip("—–- ")
        if len(candidate) < 3:
            continue
        found = rules.strong_credits.match(candidate)
        if found:
            return _normalise_credit(_group(found[1], "credit") or candidate)
    return None


def _drop_header(body: list[str]) -> list[str]:
    """Drop the page header left before the first sentence: kicker, standfirst, byline and date lines
    (none of which ends like a sentence), and return it. The headline itself is known, so this runs only
    with a title."""
    first = next((i for i, p in enumerate(body) if _ends_sentence(p)), 0)
    header = body[:first]
    if first and all(len(p) <= _HEADER_MAX_LEN for p in header):
        del body[:first]
        return header
    return []


def _leading_section(blocks: list[_Block], header: list[str], title_key: str, rules: RuleSet) -> str | None:
    """The section a page header names: a breadcrumb trail in it ("Home > Business > Full coverage": its
    first specific crumb), else a kicker next to the headline (the line after it, the line before it, or
    the item's first line when the headline is not repeated): a label on its own line ("Courts", "AROUSA",
    "Aid and Policy", "Local News") or before the date ("Ticino · 06.06.2024 – 15:45"). Not a kicker: a
    line the narrative follows at once, unless the line is all one link (a dateline: "ISTANBUL"; a
    linked "Local" is its section's link), a person's name (two capitalised words),
    a newsroom byline ("Redação"), a status badge ("LIVE", "FOR IMMEDIATE RELEASE") or a label that ends
    with a preposition ("NEWS PROVIDED BY")."""
    if not header:
        return None
    for text in header:
        if _CRUMB_SEPARATOR.search(text):
            crumbs = [c.strip() for c in _CRUMB_SEPARATOR.split(text)]
            if all(_CRUMB.fullmatch(c) for c in crumbs):
                specific = [c for c in crumbs if c.casefold() not in _GENERIC_CRUMBS]
                return specific[0] if specific else crumbs[-1]
    near = blocks[:_KICKER_REACH]
    at = next((i for i, b in enumerate(near) if _compare_key(b.text) == title_key), None)
    above = None
    if at is None:  # the item's first line that is no chrome (a cookie notice may come before it)
        places = [next((i for i, b in enumerate(near) if b.text == header[0]), 0)]
    else:
        # (a status badge between the kicker and the headline hides neither: "Press Releases", "FOR
        # IMMEDIATE RELEASE", headline)
        above = at - 1
        while above > 0 and near[above].text.casefold() in _NOT_SECTIONS:
            above -= 1
        places = [at + 1, above]
    in_header = set(header)
    for i in places:
        if not 0 <= i < len(near) - 1 or near[i].text not in in_header:
            continue
        text = near[i].text
        label, _, rest = text.partition(" · ") if " · " in text else text.partition(" | ")
        if rest and not _META_LINE.fullmatch(rest):
            continue
        # A dateline is followed by the narrative at once; a kicker may be too when it links to its
        # section, carries the page's meta ("Society · 2 min read") or is a section's name ("World").
        if (
            _is_narrative(near[i + 1].text)
            and not rest
            and not (near[i].link and near[i].link_text == near[i].text)
            and not _section_label(label, rules)
        ):
            continue
        words = label.casefold().split(" ")
        if (
            label.casefold() in _NOT_SECTIONS
            or label.casefold() in _UI_LABELS
            or words[-1] in _TRAILING_WORDS
        ):
            continue
        if any(
            len(b.text) == len(label) + 5 and b.text.casefold() in (f"{folded} logo", f"logo {folded}")
            for b in near
            for folded in (label.casefold(),)
        ):
            continue  # the outlet's name by its logo ("Arctic Weekly logo", "Arctic Weekly")
        if _KICKER.fullmatch(label) or _section_label(label, rules):
            return label
        if near[i].link and near[i].link_text == near[i].text and _ARTICLE_PLACE.fullmatch(label):
            return label  # a linked place name after its article: "La Spezia", "El Alto", "Le Havre"
        if i == above and _PLACE_KICKER.fullmatch(label):
            return label
    return None


def _not_author(name: str | None, blocks: list[_Block]) -> str | None:
    """`name`, unless the item's byline names it ("By X", "X · Follow"): "More from X" is then the
    author's other stories, not a section."""
    if name is None or name.count(" ") == 0:
        return name
    for block in blocks:
        text = block.text
        at = text.find(name)
        if at < 0:
            continue
        before, after = text[:at], text[at + len(name) :]
        if (before and _BYLINE_LEAD.fullmatch(before)) or (
            not before and after[:3] in (" · ", " | ", " • ") and after[3:].casefold() in _UI_LABELS
        ):
            return None
    return name


_BYLINE_LEAD = re.compile(r"(?i:(?:written |story |words |text |reported )?by|von|por|par|di|door) ")


def _is_narrative(text: str) -> bool:
    return _ends_sentence(text) and text.count(" ") >= _SUBHEAD_MAX_WORDS


_ARTICLE_PLACE = re.compile(r"(?:La|Le|Les|El|Los|Las|Il|Lo|O|A|Os|As|Den) [A-ZÀ-ÞĀ-Ž][\w'’\-]{2,}")
_KICKER_REACH = 8  # the headline is among an item's first blocks, or not repeated at all
_CRUMB_SEPARATOR = re.compile(r" [>›»→] ")
_KICKER = re.compile(
    r"[A-ZÀ-ÞĀ-Ž][\w'’\-]{2,}"  # one word
    r"|[A-ZÀ-ÞĀ-Ž][A-ZÀ-ÞĀ-Ž'’\-]{2,}(?: (?:&|[A-ZÀ-ÞĀ-Ž][A-ZÀ-ÞĀ-Ž'’\-]*)){0,3}"  # in capitals
    r"|[A-ZÀ-ÞĀ-Ž][\w'’\-]*(?: [A-ZÀ-ÞĀ-Ž][\w'’\-]*)? (?:and|&|y|et|und|e) [A-ZÀ-ÞĀ-Ž][\w'’\-]*"
    r"(?: [A-ZÀ-ÞĀ-Ž][\w'’\-]*)?"  # "Aid and Policy", "Arts & Culture"
)
_CRUMB = re.compile(r"[A-ZÀ-ÞĀ-Ž][\w'’\-]*(?: [\w'’&\-]+){0,3}")  # "Business", "Full coverage"
# what follows a kicker on its line: stamps, a reading time, a view counter ("06.06.2024, 11:20 · 👁 1,245")
_META_PART = (
    rf"(?:{_STAMP}|\d{{1,3}} ?(?i:min(?:ute)?s?|Min\.?)(?: (?i:read|de lecture|de lectura|Lesezeit|di lettura"
    r"|de leitura))?|(?i:reading time|lesezeit|lectura|temps de lecture|tempo di lettura|tempo de leitura):?"
    r" \d{1,3} ?(?i:min(?:ute)?s?|Min\.?|minutos|minuti)|👁️? ?[\d,.]+|[\d,.]+ (?i:views|vistas|vues|aufrufe"
    r"|visualizzazioni|visualizações))"
)
_META_LINE = re.compile(rf"{_META_PART}(?: ?[|·•,;–—-] ?{_META_PART})*")
# crumbs that name no section: a trail's start and an aggregator's story page
_GENERIC_CRUMBS = frozenset(
    {"home", "homepage", "home page", "start", "startseite", "accueil", "inicio", "início", "portada",
     "news", "nachrichten", "actualités", "actualité", "noticias", "notícias", "notizie", "full coverage",
     "couverture complète", "cobertura completa", "berichterstattung"}
)  # fmt: skip
# lines that sit where a kicker does but name no section: newsroom bylines and status badges
_NOT_SECTIONS = frozenset(
    {"redação", "redacción", "rédaction", "redaktion", "redazione", "staff", "newsroom", "editorial",
     "live", "en vivo", "en direct", "live-ticker", "liveticker", "ao vivo", "in diretta", "breaking",
     "breaking news", "exclusive", "exclusivo", "exclusif", "developing", "just in", "updated", "premium",
     "for immediate release", "press release", "comunicado de prensa", "communiqué de presse",
     "pressemitteilung", "comunicato stampa", "comunicado de imprensa", "sponsored", "advertorial",
     "press statement", "media statement", "media release", "news release", "statement", "nota de prensa",
     "comunicado", "medienmitteilung", "presseerklärung", "nota stampa", "nota à imprensa",
     "nota de imprensa"}
)  # fmt: skip
_TRAILING_WORDS = frozenset({"by", "of", "from", "for", "with", "por", "de", "par", "von", "di", "da"})
# a page's buttons and actions, in en/es/fr/de/it/pt: they sit by the headline as a kicker does, or close
# the page as a label does, but never name a section
_UI_LABELS = frozenset(
    {"save", "saved", "share", "comment", "comments", "print", "email", "e-mail", "follow", "like",
     "bookmark", "listen", "copy link", "reply", "subscribe", "login", "log in", "sign in", "menu",
     "search", "close", "read aloud", "gift article", "gift this article", "feedback",
     "guardar", "guardado", "compartir", "comentar", "imprimir", "seguir", "escuchar", "suscribirse",
     "enregistrer", "sauvegarder", "partager", "commenter", "imprimer", "suivre", "écouter", "s'abonner",
     "merken", "gemerkt", "zur merkliste", "merkliste", "vorlesen", "speichern", "teilen",
     "kommentieren", "drucken", "folgen", "anhören", "abonnieren",
     "salva", "salvato", "condividi", "commenta", "stampa", "segui", "ascolta", "iscriviti",
     "salvar", "compartilhar", "partilhar", "ouvir", "assinar"}
)  # fmt: skip
# two capitalised words just above the headline: a place kicker ("Nova Scotia", "Costa Rica"); after the
# headline the same shape is the author's name
_PLACE_KICKER = re.compile(r"[A-ZÀ-ÞĀ-Ž][\w'’\-]{2,} [A-ZÀ-ÞĀ-Ž][\w'’\-]{2,}")


def _drop_trailer(body: list[str], rules: RuleSet) -> str | None:
    """Drop what closes the page after the article: end notes, an "About X" section, the footer (until
    none is left, as each can uncover another); returns the section a footer label names, if any."""
    section = None
    while body:
        size = len(body)
        # (a lone paragraph is the article itself, whatever it says)
        while len(body) > 1 and rules.end_notes.match(body[-1]) and not _in_a_list(body):
            body.pop()
        about = _about_section(body)
        if about is not None:
            del body[about:]
        section = section or _drop_footer(body, rules)
        if len(body) == size:
            break
    return section


def _in_a_list(body: list[str]) -> bool:
    """Whether the last block belongs to a list that the last sentence introduces ("... are:")."""
    last = next((p for p in reversed(body) if _ends_sentence(p)), None)
    return last is not None and last.endswith(":")


# "About Acme Corp" (a press release's boilerplate heading), "About the author"
_ABOUT = re.compile(
    rf"(?:About|ABOUT|À propos de|Acerca de|Sobre|Über) (?:the |The |la |el |le |l'|die |der |das |o |a )?"
    rf"(?P<subject>{_NAME}|{_UPPER_NAME}|{_OUTLET})"
    r"|(?P<author>About the authors?|ABOUT THE AUTHORS?)"
)
_ABOUT_MAX_BLOCKS = 6  # the heading, its paragraph and a few contact lines


def _about_section(body: list[str]) -> int | None:
    """Where a closing "About X" section starts: a heading "About X" among the last blocks, followed by a
    paragraph in which X describes itself ("X is ...", "X, founded in ...", "X (NYSE: X) makes ...",
    "Founded in 1972, X is ..."), or,
    for "About the author", by anything. None when there is none: an "About" heading followed by
    narrative stays."""
    for j in range(max(len(body) - _ABOUT_MAX_BLOCKS, 1), len(body) - 1):
        found = _ABOUT.fullmatch(body[j])
        if found is None:
            continue
        subject = found.group("subject")
        if subject is None:
            return j
        text = body[j + 1]
        rest = text[len(subject) :] if text.casefold().startswith(subject.casefold()) else ""
        if rest[:2] in (", ", " (") or (rest[:1] == " " and rest[1:2].islower()):
            return j
        if _describes(text, subject):
            return j
    return None


def _describes(text: str, subject: str) -> bool:
    """Whether the first sentence of `text` says what `subject` is ("Founded in 1972, the X is a ...")."""
    at = text.find(f"{subject} is ", 0, 200)
    if at < 0:
        at = text.find(f"{subject} was ", 0, 200)
    return at >= 0 and not any(mark in text[:at] for mark in (". ", "! ", "? "))


def _labelled_link(block: _Block, rules: RuleSet) -> str | None:
    """The headline of a one-line teaser made of a short label and one link, "Lire aussi <a>Headline</a>",
    "<b>RELATED</b> <a>Headline</a>": the label is a "Read also" or a related heading, the link is all the
    rest of the block. None for any other block."""
    headline = clean_inline(block.link_text)
    text = block.text
    if not headline or len(headline) >= len(text) - 3 or not text.endswith(headline):
        return None
    label = text[: -len(headline)].rstrip(" :").lstrip(" ")
    if len(label) > 40:
        return None
    if _READ_ALSO_LABEL.fullmatch(label):
        return headline
    found = _classify(label, rules)
    return headline if found and found[0].kind == "related_heading" else None


_READ_ALSO_LABEL = re.compile(rf"(?i:{_READ_ALSO})")


def _drop_footer(body: list[str], rules: RuleSet) -> str | None:
    """Drop the page footer left after the last sentence (tag lists, labels, prompts that do not end like a
    sentence); returns the section its last line names, if it is a label. A last sentence ending with ":"
    introduces what follows (a list), which then stays."""
    last = next((i for i in range(len(body) - 1, -1, -1) if _ends_sentence(body[i])), None)
    if last is None or last == len(body) - 1 or body[last].endswith(":"):
        return None
    tail = body[last + 1 :]
    if any(len(p) > _FOOTER_MAX_LEN for p in tail):
        return None
    del body[last + 1 :]
    label = tail[-1]
    if label.casefold() in _UI_LABELS:  # "Feedback", "Share": a button, not a section
        return None
    return _section_label(label, rules) or (label if _LABEL.fullmatch(label) else None)


def _consume_tags(blocks: list[_Block], i: int, rules: RuleSet) -> int:
    """Skip the topic tags that follow a tag heading: short lines that do not end like a sentence, up to
    the heading of what follows them (a teaser list's, another tag list's)."""
    n = len(blocks)
    while i < n and not blocks[i].caption and len(text := blocks[i].text) <= 40 and not _ends_sentence(text):
        found = _classify(text, rules)
        if found and found[0].kind in _HEADING_KINDS:
            break
        i += 1
    return i


_HEADING_KINDS = frozenset({"related_heading", "tag_heading"})


def _section_label(text: str, rules: RuleSet) -> str | None:
    """The section a trailing label names, or None when `text` is not a section label."""
    if text.casefold() in _UI_LABELS:
        return None
    found = rules.section_labels.match(text)
    return None if found is None else _group(found[1], "section") or text


def _teaser_container(blocks: list[_Block], related: list[RelatedItem], rules: RuleSet) -> str | None:
    """A run of blocks inside a teaser container: list items and headings are teasers, the rest is their
    teaser text; but next to a list, a heading without a link is the container's label ("Also on X").
    Returns the section named by a "More from X" heading, if any."""
    section = None
    members: list[_Block] = []
    loose: list[_Block] = []
    for block in blocks:
        found = _classify(block.text, rules)
        if found and found[0].kind == "related_heading":
            section = section or _group(found[1], "section")
        elif found and found[0].kind == "boilerplate":
            continue  # a "Read more »" or "Continue reading" button, a stamp: no teaser's headline
        elif block.item >= 0:
            members.append(block)
        elif block.heading or block.link:
            loose.append(block)
    related.extend(RelatedItem(b.text, b.link) for b in loose if b.link or not members)
    related.extend(_teaser_items(members))
    return section


def _consume_teasers(blocks: list[_Block], i: int, related: list[RelatedItem], rules: RuleSet) -> int:
    """Take the teaser list that follows a related heading at blocks[i]; return the index after it."""
    n = len(blocks)
    members: list[_Block] = []
    while i < n:
        block = blocks[i]
        if block.item >= 0:
            members.append(block)
        elif (
            members
            and i + 1 < n
            and blocks[i + 1].item >= 0
            and not block.caption
            and not _heading_of_list(block.text, rules)
        ):
            pass  # unindented teaser text between two items of the list
        else:
            break
        i += 1
    if members:
        related.extend(_teaser_items(members))
        return i
    # No list: a run of headline-like lines ("Related\n\nHeadline one\n\nHeadline two"), maybe numbered
    # ("Most Read\n\n1. Headline"), each maybe under its summary cut mid-word ("... queuing at the wells by
    # ha...": the teaser's, dropped). The page's last line is its section label, if it reads like one.
    taken = len(related)
    while i < n and not blocks[i].caption:
        text = blocks[i].text
        if not _looks_like_headline(text):
            if len(related) > taken and len(text) <= _CAPTION_MAX_LEN and _CUT_SUMMARY.search(text):
                i += 1
                continue
            break
        if _classify(text, rules) is not None or (i == n - 1 and _section_label(text, rules)):
            break
        number = _LIST_NUMBER.match(text)
        related.append(RelatedItem(text[number.end() :] if number else text, blocks[i].link))
        i += 1
    return i


def _skip_cut_cards(blocks: list[_Block], i: int) -> int:
    """Skip the cards under an ad or sponsored label whose headlines the page cut short ("5 habits that help
    you retire early, according to finan…"): one clause each, ending in an ellipsis right after a word."""
    n = len(blocks)
    while (
        i < n
        and not blocks[i].caption
        and len(text := blocks[i].text) <= _CUT_CARD_MAX_LEN
        and _CUT_SUMMARY.search(text)
        and not _SENTENCE_MARK.search(text, 0, len(text) - 3)
    ):
        i += 1
    return i


_CUT_CARD_MAX_LEN = 160
# a label over paid cards ("Sponsored Content", "Paid Content", "Promoted stories"), not "Advertisement"
_SPONSORED = re.compile(r"(?i:sponsor|paid|promot|partner|patrocin|gesponsert)")


def _heading_of_list(text: str, rules: RuleSet) -> bool:
    """A line that heads a list of its own ("Related Internet Links", "Tags"): no teaser text in a list."""
    found = _classify(text, rules)
    return found is not None and found[0].kind in _HEADING_KINDS


# a teaser's summary cut mid-word by the page: "... by ha...", "... ein Zert…"
_CUT_SUMMARY = re.compile(r"\w(?:\.\.\.|…)\Z")


def _unique(values: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(values))


# --------------------------------------------------------------------------------------------------------
# The Beam stage
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CleanSettings:
    """The cleaner's settings: the `clean` section of the pipeline config."""

    rules_path: str | None = None  # a rules file (see configs/boilerplate.yaml); None: the bundled one
    # Cross-item evidence: a paragraph found under at least `repeat_min_items` articles of one source in
    # a run, and under at least `repeat_min_share` of that source's articles, is page chrome and is removed
    # from all of them. 0 switches the pass off.
    repeat_min_items: int = 3
    repeat_min_share: float = 0.3
    # fetch_full_text feeds: an item whose cleaned text is shorter than this (in words), or ends with an
    # ellipsis or a "Read more" link, is a teaser; its page is fetched and its main text extracted.
    teaser_max_words: int = 120
    # the learned paragraph filter (transforms/clean_model.py) behind the rules: drops a paragraph the rules
    # kept when its chrome probability is at least `learned_threshold` (None: the one its training chose)
    learned_filter: bool = True
    learned_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.repeat_min_items != 0 and self.repeat_min_items < 2:
            raise ValueError(
                f"CleanSettings.repeat_min_items must be 0 (off) or at least 2, got {self.repeat_min_items}"
            )
        if not 0.0 <= self.repeat_min_share <= 1.0:
            raise ValueError(
                f"CleanSettings.repeat_min_share must be from 0 to 1, got {self.repeat_min_share}"
            )
        if self.teaser_max_words < 0:
            raise ValueError(f"CleanSettings.teaser_max_words must be >= 0, got {self.teaser_max_words}")
        if self.learned_threshold is not None and not 0.5 <= self.learned_threshold <= 1.0:
            raise ValueError(
                "CleanSettings.learned_threshold must be from 0.5 to 1 (or null), "
                f"got {self.learned_threshold}"
            )


def learned_drop_filter(settings: CleanSettings) -> DropFilter | None:
    """The drop filter `settings` ask for: the shipped model's at their threshold, or None (rules only)."""
    return load_model().drop_filter(settings.learned_threshold) if settings.learned_filter else None


def build_article(
    entry: RawEntry, rules: RuleSet | None = None, drop_filter: DropFilter | None = None
) -> Article:
    """A feed entry as a clean Article, with its canonical URL and stable id; tags and stories come later.

    The body comes from the richest field (content:encoded / Atom content, else the description); the
    description is kept as `summary` only when it says something the body does not already start with.
    `rules` (default: the built-in ones) are narrowed to the item's source and its feed's own rules;
    `drop_filter` goes to `extract` (`learned_drop_filter(settings)`; None: the rules alone).
    """
    title = clean_inline(entry.title)
    url = canonical_url(entry.link)
    source = registered_domain(url) if url else registered_domain(entry.feed.url)
    rules = (rules or BUILTIN_RULES).for_source(source).with_rules(entry.feed.rules)
    main = extract(
        entry.content_html or entry.summary_html, title=title, rules=rules, drop_filter=drop_filter
    )
    summary = None
    if entry.content_html and entry.summary_html:
        summary = extract(entry.summary_html, title=title, rules=rules, drop_filter=drop_filter).body or None
        if summary and _starts_with(main.paragraphs, summary.split("\n\n")):
            summary = None
    if not title and not main.paragraphs:
        raise ValueError("empty item: no title and no text left after cleaning")
    article_id = make_article_id(url, entry.guid, entry.feed.url, title, main.body)
    return Article(
        article_id=article_id,
        url=url,
        source=source,
        feed_url=entry.feed.url,
        title=title,
        body=main.body,
        fetched_at=entry.fetched_at,
        summary=summary,
        authors=_unique(a for a in (clean_inline(name) for name in entry.authors) if a),
        language=entry.language,
        published_at=entry.published_at,
        date_source=entry.date_source,
        section=main.section,
        credits=main.credits,
        related=main.related,
        story_id=article_id,
        guid=entry.guid,
        region_hint=entry.feed.region_hint,
    )


def _starts_with(paragraphs: tuple[str, ...], start: list[str]) -> bool:
    """Whether the text of `paragraphs` starts with that of `start` (case-folded; a trailing ellipsis or
    full stop of `start` ignored). Both are cleaned paragraphs, so they are joined and compared as they
    are, and only as many body paragraphs as the comparison needs are joined."""
    want = " ".join(start).casefold().rstrip(".… ")
    size, end = -1, len(paragraphs)
    for i, paragraph in enumerate(paragraphs):
        size += len(paragraph) + 1
        if size > len(want):
            end = i + 1
            break
    head = " ".join(paragraphs[:end]).casefold()
    if end == len(paragraphs):
        head = head.rstrip(" .")
    return head.startswith(want)


# Cross-item evidence: paragraphs that repeat under many articles of one source.


def paragraph_key(paragraph: str) -> bytes:
    """What two copies of one paragraph share: its words, case-folded ("Share this!" ~ "share this")."""
    words = folded_words([paragraph])[0]
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).digest()


def _source_of(article: Article) -> str:
    return article.source or article.feed_url


def _paragraph_keys(article: Article) -> tuple[str, tuple[str, frozenset[bytes]]]:
    # paragraph_key of each paragraph, their words found in one pass over the body
    paragraphs = folded_words([p for p in article.body.split("\n\n") if p])
    keys = frozenset(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in paragraphs)
    return _source_of(article), (article.article_id, keys)


class RepeatedParagraphs(beam.CombineFn):
    """Per source: (article_id, paragraph keys) of each article -> the keys found under at least
    `min_items` distinct articles and `min_share` of them. Counted per article id, so one article that
    several feeds of the source carry counts once."""

    def __init__(self, min_items: int, min_share: float) -> None:
        self._min_items = min_items
        self._min_share = min_share

    def create_accumulator(self) -> dict[str, frozenset[bytes]]:
        return {}

    def add_input(self, accumulator, element):
        article_id, keys = element
        accumulator[article_id] = accumulator.get(article_id, frozenset()) | keys
        return accumulator

    def merge_accumulators(self, accumulators):
        merged: dict[str, frozenset[bytes]] = {}
        for accumulator in accumulators:
            for article_id, keys in accumulator.items():
                merged[article_id] = merged.get(article_id, frozenset()) | keys
        return merged

    def extract_output(self, accumulator) -> frozenset[bytes]:
        return repeated_keys(accumulator.values(), self._min_items, self._min_share)


def repeated_keys(articles: Iterable[frozenset[bytes]], min_items: int, min_share: float) -> frozenset[bytes]:
    """The paragraph keys found in at least max(min_items, min_share x articles) of `articles`."""
    counts: Counter[bytes] = Counter()
    total = 0
    for keys in articles:
        counts.update(keys)
        total += 1
    threshold = max(min_items, math.ceil(min_share * total))
    if not min_items or total < threshold:
        return frozenset()
    return frozenset(key for key, count in counts.items() if count >= threshold)


def drop_repeated(article: Article, repeated: frozenset[bytes]) -> Article:
    """The article without the paragraphs whose key is in `repeated`; unchanged if none, or if nothing
    would be left (then the "chrome" is the article itself, e.g. one story in many copies)."""
    paragraphs = article.body.split("\n\n") if article.body else []
    kept = [p for p in paragraphs if paragraph_key(p) not in repeated]
    if len(kept) == len(paragraphs) or not kept:
        return article
    body = "\n\n".join(kept)
    article_id = make_article_id(article.url, article.guid, article.feed_url, article.title, body)
    story_id = article_id if article.story_id == article.article_id else article.story_id
    return dataclasses.replace(article, body=body, article_id=article_id, story_id=story_id)


class _CleanEntryFn(StageFn):
    stage = "clean"

    def __init__(self, settings: CleanSettings) -> None:
        super().__init__()
        self._settings = settings
        self._rules: RuleSet | None = None
        self._filter: DropFilter | None = None
        self._cleaned = Metrics.counter("clean", "cleaned")
        self._no_body = Metrics.counter("clean", "title_only")
        self._learned = Metrics.counter("clean", "learned_dropped")

    def setup(self) -> None:
        self._rules = load_rules(self._settings.rules_path)  # one table per worker process (cached by path)
        self._filter = learned_drop_filter(self._settings)

    def _build(self, entry: RawEntry) -> Article:
        if self._filter is None:
            return build_article(entry, self._rules)
        drops: list[int] = []  # per filter call: the body's, then the summary's (when both are cleaned)

        def counted(body: list[str], kept: set[str]) -> Iterable[int]:
            dropped = list(self._filter(body, kept))
            drops.append(len(dropped))
            return dropped

        article = build_article(entry, self._rules, counted)
        # a summary that repeats the body's start is not kept: what was dropped from it is not counted
        dropped = sum(drops) if article.summary else sum(drops[:1])
        if dropped:
            self._learned.inc(dropped)
        return article

    def describe(self, entry: RawEntry) -> tuple[str | None, str | None]:
        return entry.feed.url, entry.ref

    def handle(self, entry: RawEntry) -> Iterator[Article]:
        if self._rules is None:
            self.setup()
        article = self._build(entry)
        self._cleaned.inc()
        if not article.body:
            self._no_body.inc()
        yield article


class _DropRepeatedFn(beam.DoFn):
    def __init__(self) -> None:
        super().__init__()
        self._changed = Metrics.counter("clean", "repeated_chrome_removed")

    def process(self, article: Article, repeated: dict[str, frozenset[bytes]]):
        keys = repeated.get(_source_of(article))
        if keys:
            cleaned = drop_repeated(article, keys)
            if cleaned is not article:
                self._changed.inc()
                article = cleaned
        yield article


@beam.typehints.with_input_types(RawEntry)
class CleanArticles(beam.PTransform):
    """PCollection[RawEntry] -> StageOutput(main=PCollection[Article], dead_letters=PCollection[DeadLetter]).

    Each item is cleaned on its own (`build_article` with the rules of `settings.rules_path`, its site's
    and its feed's); then, unless `settings.repeat_min_items` is 0, paragraphs repeated under many
    articles of one source in this run (`RepeatedParagraphs`, a CombinePerKey by source, handed back as a
    side input) are removed from every article of that source.

    Unless `settings.learned_filter` is off, the learned paragraph filter drops what the rules kept and
    the model is confident is chrome (`learned_drop_filter`).

    Counters (namespace "clean"): cleaned, title_only (items whose feed gives a headline and no text),
    learned_dropped (paragraphs the learned filter dropped), repeated_chrome_removed (articles that lost
    repeated paragraphs), dead_letters.
    """

    def __init__(self, settings: CleanSettings | None = None, label: str | None = None) -> None:
        super().__init__(label)
        self._settings = settings or CleanSettings()

    def expand(self, entries: beam.PCollection) -> StageOutput:
        settings = self._settings
        load_rules(settings.rules_path)  # a bad rules file fails here, before any work, naming the key
        results = entries | "CleanEach" >> ParDoWithOutputs(_CleanEntryFn(settings), DEAD_LETTERS)
        articles = results[MAIN]
        if settings.repeat_min_items:
            repeated = (
                articles
                | "ParagraphKeys" >> beam.Map(_paragraph_keys)
                | "FindRepeated"
                >> beam.CombinePerKey(
                    RepeatedParagraphs(settings.repeat_min_items, settings.repeat_min_share)
                )
                | "KeepSourcesWithRepeats" >> beam.Filter(lambda kv: bool(kv[1]))
            )
            articles = articles | "DropRepeated" >> beam.ParDo(
                _DropRepeatedFn(), beam.pvalue.AsDict(repeated)
            )
        return StageOutput(main=articles, dead_letters=results[DEAD_LETTERS])
