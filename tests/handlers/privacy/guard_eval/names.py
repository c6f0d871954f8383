"""Names and context words for the guard's evaluation set (not shipped with the guard).

Written for the evaluation only: names common among the people social workers in Dutch cities
meet, by background. Each pool is split by position: even entries go to the development part,
odd entries to the test part, so the two parts never share a name. The guard's own lists
(``handlers/data/names/``) come from other sources; ``bench/guard.py`` reports how many of these
names happen to be in them.
"""

from __future__ import annotations

FIRST: dict[str, tuple[str, ...]] = {
    "moroccan": (
        "Fatima", "Yassine", "Nadia", "Soufiane", "Khadija", "Bilal", "Imane", "Hamza",
        "Zakaria", "Samira", "Naima", "Ayoub", "Rachid", "Hafsa", "Anouar", "Salma",
        "Mustafa", "Latifa", "Ilyas", "Malika",
    ),
    "turkish": (
        "Ayşe", "Mehmet", "Emre", "Elif", "Zeynep", "Burak", "Hatice", "Yusuf", "Esra",
        "Kübra", "Onur", "Selin", "Murat", "Gül", "Serkan", "Büşra", "Tuğba", "Oğuz",
    ),
    "surinamese": (
        "Rishi", "Anjali", "Shanti", "Dwight", "Romano", "Chandni", "Jerrel", "Rajesh",
        "Sharda", "Gerold", "Vishal", "Sunita", "Marciano", "Ashwin", "Roshni", "Glenn",
    ),
    "antillean": (
        "Shurendy", "Jurmaine", "Jairzinho", "Shanella", "Roshendra", "Juvinio", "Rudsel",
        "Jeandra", "Dayenne", "Rigilio", "Ediwin", "Sharleen", "Giandro", "Jurgen",
    ),
    "polish": (
        "Paweł", "Agnieszka", "Krzysztof", "Magdalena", "Tomasz", "Katarzyna", "Piotr",
        "Małgorzata", "Łukasz", "Joanna", "Grzegorz", "Zofia", "Wojciech", "Dorota",
    ),
    "syrian": (
        "Ahmad", "Rania", "Omar", "Lina", "Khaled", "Hiba", "Mahmoud", "Noor", "Yazan",
        "Rasha", "Firas", "Dima", "Tareq", "Ruba", "Ammar", "Lama",
    ),
    "eritrean": (
        "Semhar", "Yonas", "Senait", "Filmon", "Luwam", "Mussie", "Freweyni", "Dawit",
        "Selam", "Biniam", "Mebrat", "Merhawi", "Saba", "Yohannes", "Hiwet", "Robel",
    ),
    "somali": (
        "Hodan", "Abdirahman", "Faduma", "Mohamud", "Ayaan", "Abdullahi", "Sahra", "Liban",
        "Hibo", "Abdiqani", "Nimco", "Guled", "Deeqa", "Ilhaan",
    ),
    "chinese": (
        "Xiaoling", "Zhiwei", "Yuting", "Haoran", "Meiling", "Jianguo", "Xinyi", "Lei",
        "Jing", "Weiming", "Qian", "Bo",
    ),
    "dutch": (
        "Riet", "Kees", "Anouk", "Daan", "Sanne", "Bram", "Femke", "Joyce", "Kevin",
        "Priscilla", "Gerda", "Henk", "Tineke", "Ruud", "Mirjam", "Wesley", "Chantal",
        "Jeroen", "Esther", "Dirk",
    ),
    "other": (
        "Farida", "Kwame", "Akosua", "Ivan", "Milena", "Djanira", "Habib", "Zahra",
        "Nadira", "Kofi", "Elena", "Bogdan",
    ),
}  # fmt: skip

SURNAMES: dict[str, tuple[str, ...]] = {
    "moroccan": (
        "El Amrani", "Bouzid", "Ait Taleb", "Benali", "El Khatib", "Ouali", "Azzouz",
        "Boukhari", "Chaoui", "El Idrissi", "Lahlou", "Tahiri", "Amezian", "Ziani",
        "Haddouchi", "Bakkali",
    ),
    "turkish": (
        "Yılmaz", "Şahin", "Demir", "Çelik", "Öztürk", "Aydın", "Arslan", "Doğan", "Koç",
        "Yıldız", "Erdoğan", "Korkmaz", "Polat", "Güler", "Kılıç", "Aksoy",
    ),
    "surinamese": (
        "Ramdin", "Sewdien", "Kromodimedjo", "Jadnanansing", "Biharie", "Soekhoe", "Pinas",
        "Wijngaarde", "Tjon A Fong", "Amatmoekrim", "Lachmon", "Sital", "Doelwijt",
        "Karsowidjojo", "Ramsaran", "Bhola",
    ),
    "antillean": (
        "Martina", "Isenia", "Statia", "Rosaria", "Cijntje", "Maduro", "Wawoe", "Koeiman",
        "Janga", "Felida", "Clarinda", "Pieternella",
    ),
    "polish": (
        "Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska",
        "Zieliński", "Szymańska", "Woźniak", "Dąbrowski", "Kozłowska", "Jankowski",
    ),
    "syrian": (
        "Darwish", "Haddad", "Al-Hassan", "Khalil", "Mansour", "Nasser", "Al-Masri",
        "Kassem", "Hamwi", "Abboud", "Sabbagh", "Rifai", "Haj Ali", "Shami",
    ),
    "eritrean": (
        "Ghebremedhin", "Tesfamariam", "Habte", "Kidane", "Berhane", "Woldemichael",
        "Tekle", "Gebreyesus", "Mebrahtu", "Tesfay", "Asmerom", "Negash", "Tewelde",
        "Okbazghi",
    ),
    "somali": (
        "Warsame", "Abdi", "Jama", "Osman", "Egal", "Dualeh", "Hersi", "Aden", "Farah",
        "Mohamed", "Ismail", "Hirsi",
    ),
    "chinese": (
        "Chen", "Wang", "Zhang", "Liu", "Huang", "Zhou", "Wu", "Lin", "Zhao", "Yang", "Xu",
        "Guo",
    ),
    "dutch": (
        "van der Laan", "de Vries", "Jansen", "Bakker", "Visser", "Meijer", "de Boer",
        "Mulder", "de Groot", "Hendriks", "van Dijk", "Dekker", "van den Berg", "Verhoeven",
        "Kuipers", "Schouten", "Brouwer", "de Wit",
    ),
    "other": (
        "Ahmadzai", "Mensah", "Petrova", "Dimitrov", "Boateng", "Tavares", "Nazari",
        "Owusu", "Popescu", "Lopes",
    ),
}  # fmt: skip

# Work areas: municipalities, districts and regions named as where the professional works.
WORK_AREAS = (
    "Zwijndrecht", "Dordrecht", "Rotterdam-Zuid", "Papendrecht", "Schiedam", "Vlaardingen",
    "Almere", "Lelystad", "Den Haag", "Overvecht", "Amsterdam Nieuw-West", "Tilburg",
    "Eindhoven", "Venlo", "Zaanstad", "Purmerend", "Leeuwarden", "Emmen", "Heerlen",
    "Capelle aan den IJssel", "Spijkenisse", "Gouda", "Alphen aan den Rijn", "Ede",
    "Apeldoorn", "Enschede", "Hengelo", "Deventer", "Zoetermeer", "Nieuwegein", "Delft",
    "Ridderkerk", "Barendrecht", "Hoogvliet", "Charlois", "Feijenoord", "Kanaleneiland",
    "de Schilderswijk", "Transvaal", "de Bijlmer", "Drechtsteden", "Hoeksche Waard",
    "Twente", "Midden-Limburg", "West-Brabant", "Zuidoost", "Lombok", "Kerkrade",
    "Groningen", "Assen", "Helmond", "Roosendaal", "Den Bosch", "Oss", "Haarlem",
    "Velsen", "Hoorn", "Den Helder", "Zutphen", "Arnhem", "Nijmegen", "Breda",
)  # fmt: skip

ORGANISATIONS = (
    "Fier", "het FACT-team", "Buurman", "Veilig Thuis", "de Kredietbank", "Humanitas",
    "het Leger des Heils", "Vluchtelingenwerk", "de GGD", "het CJG", "Jeugdbescherming",
    "de Raad voor de Kinderbescherming", "Stichting Timon", "Lindenhout", "Enver",
    "Parnassia", "Kwadraad", "SchuldHulpMaatje", "de voedselbank", "MEE", "Youz", "Levvel",
    "Pluryn", "Arkin", "Altra", "Sterk Huis", "Moviera", "het Juridisch Loket", "het UWV",
    "de SVB", "de Belastingdienst", "het CAK", "Tactus", "Novadic-Kentron", "Jeugdformaat",
    "Yulius", "Karakter", "het Sociaal Raadsliedenwerk", "Nidos", "het COA", "Cordaan",
    "de Kessler Stichting", "Exodus", "Kenter Jeugdhulp", "de wijkagent", "Jeugdzorg Plus",
)  # fmt: skip

METHODS = (
    "Signs of Safety", "Triple P", "de Gordon-methode", "Positief Opvoeden", "Wraparound Care",
    "MDFT", "Multisysteem Therapie", "Motiverende Gespreksvoering", "een Eigen Kracht-conferentie",
    "Houvast", "Krachtwerk", "de Omgekeerde Toets", "Functional Family Therapy",
    "Nieuwe Autoriteit", "Geweldloos Verzet", "Stevig Ouderschap", "Video-hometraining",
    "1Gezin1Plan", "Moeders Informeren Moeders", "Samen Starten", "Oplossingsgericht Werken",
    "de Mobiliteitsscan", "ACT", "Belevingsgericht Werken",
)  # fmt: skip

PERSON_REFS = (
    "De oudste", "De jongste", "Zoon", "Dochter", "Moeder", "Vader", "De baby",
    "Het middelste kind", "Oma", "Haar partner", "De tweeling", "Zijn vriendin",
)  # fmt: skip


def half(values: tuple[str, ...], split: str) -> tuple[str, ...]:
    """Even positions for ``dev``, odd positions for ``test``."""
    return values[1::2] if split == "test" else values[0::2]


# Development part only (``{W}``, ``{G}``): districts, regions and organisations that the
# guard's lists mostly lack, written after the first test measurement showed work areas and
# organisations "that no list has" (the kind, not the texts). None of them is in the test
# part's half of WORK_AREAS or ORGANISATIONS; the test part does not use these placeholders.
DEV_DISTRICTS = (
    "Crooswijk", "Bospolder", "Tussendijken", "Tarwewijk", "Hillesluis", "Afrikaanderwijk",
    "Osdorp", "Slotervaart", "Geuzenveld", "Holendrecht", "Gaasperdam", "Moerwijk", "Escamp",
    "Bouwlust", "Vrederust", "Mariahoeve", "Morgenstond", "Hoograven", "Ondiep", "Woensel",
    "Presikhaaf", "Malburgen", "Klarendal", "Dukenburg", "Wolfskuil", "Stokhasselt",
    "Crabbehof", "Wielwijk", "Krispijn", "Muziekwijk", "Stedenwijk", "Kattenbroek",
    "Schothorst", "Liendert", "Paddepoel", "Vinkhuizen", "Beijum", "Lewenborg", "Heechterp",
    "Schieringen", "Deppenbroek", "Wesselerbrink", "Den Haag Zuidwest", "Rotterdam-Noord",
    "Amsterdam-Oost", "Almere Buiten", "Woensel-West", "Leidsche Rijn", "Prins Alexander",
    "Bos en Lommer", "Oud-Charlois", "Zuid-Holland Zuid", "Noord-Veluwe",
    "Gooi en Vechtstreek", "Midden-Holland", "de Liemers", "het Lage Land",
    "Hart van Brabant", "Haaglanden", "Rijnmond", "Kennemerland", "Parkstad",
    "de Achterhoek", "de Zaanstreek", "Waterland", "Selwerd", "Spangen", "Pendrecht",
)  # fmt: skip

DEV_MORE_ORGANISATIONS = (
    "Lumens", "Youké", "Avenier", "Intermetzo", "Ixta Noa", "Bindkracht10", "Stimulansz",
    "het Sociaal Team", "Sociaal Team Noord", "het wijkteam", "Buurtteam Oost", "Team Jeugd",
    "het Zorg- en Veiligheidshuis", "Dimence", "Mediant", "Iriszorg", "Brijder", "Jellinek",
    "Victas", "Trajectum", "Lievegoed", "Amerpoort", "Koraal", "Radar", "Zuidwester",
    "Prisma", "Dock", "Contour de Twern", "WIJ Groningen", "Wij Eindhoven", "de Vraagwijzer",
    "het Geldloket", "Geldfit", "het Nibud", "Kompaan en De Bocht", "de Waag", "Vitree",
    "Triade", "Vitalis", "Elker", "het IHT-team", "het Crisisteam", "Bureau Jeugdzorg",
    "Jeugdhulp Friesland", "Kinderopvang Humankind", "Buurtwerk", "De Opbouw", "Indigo",
)  # fmt: skip


# Development part only, third round (``{V}``, ``{X}``, ``{J}``, ``{Q}``): written after the
# second test measurement reported its remaining interruptions as "other" clean messages (the
# kind, not the texts), for the shapes an earlier attempt had seen on dev: kin words and forms of
# address before an ordinary word ("moeder wil", "meneer kan"), capitalised ordinary words,
# job titles and programme names. First names and surnames that are also Dutch words keep the
# other side honest: with a kin word or a form of address before them they are names.
DEV_WORD_FIRST = (
    "Roos", "Wil", "Lot", "Fleur", "Iris", "Storm", "Mees", "Sterre", "Jade", "Amber",
    "Rosa", "Bloem",
)  # fmt: skip
DEV_WORD_SURNAMES = (
    "Bos", "Vos", "Bloem", "Kok", "Bakker", "Visser", "de Wit", "Schaap", "Storm", "Winter",
    "Zomer", "de Haan", "van den Berg", "Molenaar", "Smid", "de Koning",
)  # fmt: skip
DEV_ROLES = (
    "Jeugdconsulent", "Gezinsvoogd", "Teamleider", "Casemanager", "Bewindvoerder", "Jobcoach",
    "Leerplichtambtenaar", "POH-GGZ", "Ervaringsdeskundige", "Orthopedagoog", "Klantmanager",
    "Procesregisseur", "Aandachtsfunctionaris", "Wijkverpleegkundige", "Budgetcoach",
    "Schuldhulpverlener", "Gedragswetenschapper", "Zorgcoördinator", "Intern Begeleider",
    "Jeugdarts", "Huisarts", "Psychiater", "Mentor", "Voogd", "Maatschappelijk Werker",
    "Wijkagent", "Jongerenwerker", "Trajectbegeleider", "Consulent Inkomen", "Regisseur",
)  # fmt: skip
DEV_PROGRAMMES = (
    "Home-Start", "Kansrijke Start", "Grip op je Geld", "Vroeg Eropaf", "Kinderen uit de Knel",
    "Rots en Water", "Dappere Dino's", "KIES", "Buurtgezinnen", "Nu Niet Zwanger",
    "Geldzorgen de Baas", "Thuis Best", "Samen Sterk", "het Schuldenlab", "de Doorbraakaanpak",
    "Jongeren op Gezond Gewicht", "Opvoeden Zo!", "Buurtbemiddeling", "Taalmaatje",
    "Maatje Meer", "Stap Verder", "Goed Geregeld", "Money Wise", "Jouw Toekomst",
    "Sterk in je Werk", "Vroegsignalering", "Mindful Opvoeden", "Held in Huis",
)  # fmt: skip
