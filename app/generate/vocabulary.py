"""The fixed word lists synthetic content is built from.

Everything here is a constant: the generator only ever chooses among these words with a
seeded random generator, so the same seed gives the same text on every machine.
"""

from __future__ import annotations

# Function words, with their weights: running text is mostly these.
FUNCTION_WORDS: dict[str, int] = {
    "the": 60, "of": 34, "and": 30, "to": 26, "in": 24, "a": 20, "that": 12, "is": 11,
    "for": 10, "on": 8, "as": 8, "with": 8, "by": 6, "was": 6, "are": 6, "it": 5,
    "from": 5, "at": 4, "this": 4, "its": 3, "their": 3, "which": 3, "has": 3, "have": 3,
    "but": 3, "not": 3, "more": 2, "between": 2, "how": 2, "where": 2, "while": 2,
    "after": 2, "over": 2, "among": 2, "across": 2, "into": 2, "they": 2, "these": 2,
    "than": 2, "both": 1, "during": 1, "under": 1, "against": 1, "through": 1, "most": 1,
}

# Content words, most frequent first (their weights fall off like Zipf's law).
CONTENT_WORDS: tuple[str, ...] = tuple(
    ["security", "research", "policy", "government", "violence", "democracy", "state", "political", "public", "governance", "conflict", "economic", "social", "international", "rights", "law", "power", "community", "evidence", "data", "study", "analysis", "crime", "institutions", "development", "history", "region", "students", "program", "scholars", "network", "control", "support", "local", "national", "elections", "reform", "population", "migration", "border", "health", "justice", "police", "military", "trade", "market", "growth", "cooperation", "leaders", "officials", "citizens", "families", "victims", "women", "children", "workers", "networks", "groups", "organizations", "movement", "protest", "regime", "courts", "accountability", "corruption", "transparency", "legitimacy", "authority", "sovereignty", "territory", "cartels", "kidnapping", "extortion", "trafficking", "insurgency", "terrorism", "ceasefire", "negotiation", "diplomacy", "alliance", "sanctions", "treaty", "strategy", "deterrence", "escalation", "intelligence", "surveillance", "technology", "platforms", "misinformation", "media", "journalism", "archives", "memory", "identity", "religion", "language", "culture", "education", "universities", "fellowship", "seminar", "conference", "lecture", "panel", "workshop", "screening", "discussion", "debate", "interview", "commentary", "findings", "framework", "theory", "methods", "survey", "fieldwork", "interviews", "experiments", "estimates", "trends", "patterns", "outcomes", "consequences", "causes", "mechanisms", "incentives", "constraints", "risks", "threats", "resilience", "recovery", "reconstruction", "displacement", "refugees", "asylum", "humanitarian", "aid", "famine", "drought", "climate", "energy", "water", "land", "agriculture", "cities", "neighborhoods", "villages", "provinces", "municipalities", "federal", "constitutional", "electoral", "parliamentary", "presidential", "judicial", "legislative", "administrative", "fiscal", "monetary", "budget", "taxes", "inequality", "poverty", "unemployment", "wages", "prices", "inflation", "debt", "investment", "banks", "finance", "industry", "manufacturing", "infrastructure", "transport", "ports", "pipelines", "oil", "gas", "minerals", "mining", "forests", "oceans", "fisheries", "pandemic", "vaccines", "hospitals", "doctors", "nurses", "clinics", "counseling", "hotline", "survivors", "trauma", "testimony", "witnesses", "prosecutors", "judges", "lawyers", "defendants", "prisons", "sentencing", "policing", "patrols", "checkpoints", "soldiers", "militias", "rebels", "hostages", "negotiators", "mediators", "envoys", "ambassadors", "ministers", "parliaments", "parties", "coalitions", "candidates", "voters", "campaigns", "turnout", "ballots", "referendum", "constitution", "amendments", "decrees", "emergency", "curfew", "lockdown", "mobilization", "strikes", "unions", "activists", "dissidents", "exiles", "diaspora", "remittances", "smuggling", "ransom", "abduction", "disappearance", "impunity", "reconciliation", "truth", "commission", "tribunal", "genocide", "atrocity", "prevention", "protection", "peacekeeping", "mandate", "resolution", "council", "assembly", "summit", "agenda", "priorities", "partnership", "funding", "grants", "philanthropy", "foundation", "center", "institute", "department", "faculty", "professor", "fellow", "director", "associate", "visiting", "postdoctoral", "doctoral", "graduate", "undergraduate", "curriculum", "course", "syllabus", "book", "chapter", "journal", "article", "report", "brief", "paper", "working", "edition", "volume", "issue", "review", "essay", "dataset", "archive", "catalogue", "collection", "library", "manuscript", "translation", "anthology"]
)

PLACES: tuple[str, ...] = (
    "Mexico", "Colombia", "Brazil", "Argentina", "Chile", "Peru", "Venezuela", "Guatemala",
    "Honduras", "El Salvador", "Nicaragua", "Haiti", "Cuba", "Israel", "Lebanon", "Syria",
    "Jordan", "Egypt", "Iraq", "Iran", "Turkey", "Yemen", "Libya", "Tunisia", "Morocco",
    "Algeria", "Nigeria", "Kenya", "Ethiopia", "Somalia", "Sudan", "South Sudan", "Uganda",
    "Rwanda", "Congo", "Mali", "Niger", "Ghana", "Senegal", "South Africa", "Zimbabwe",
    "Mozambique", "India", "Pakistan", "Afghanistan", "Bangladesh", "Sri Lanka", "Myanmar",
    "Thailand", "Cambodia", "Vietnam", "Indonesia", "Philippines", "Malaysia", "China",
    "Taiwan", "Japan", "Korea", "Mongolia", "Kazakhstan", "Ukraine", "Russia", "Georgia",
    "Armenia", "Azerbaijan", "Poland", "Hungary", "Serbia", "Bosnia", "Kosovo", "Greece",
    "Italy", "Spain", "France", "Germany", "Ireland", "Northern Ireland", "Canada",
    "California", "Texas", "the Sahel", "the Balkans", "the Caucasus", "Central America",
    "the Andes", "the Caribbean", "the Gulf", "the Horn of Africa", "Southeast Asia",
    "the Pacific", "the Arctic", "Oaxaca", "Sinaloa", "Michoacan", "Chiapas", "Medellin",
    "Bogota", "Gaza", "the West Bank", "Jerusalem", "Tel Aviv", "Beirut", "Baghdad",
    "Kabul", "Lagos", "Nairobi", "Mogadishu", "Khartoum", "Kyiv", "Tbilisi", "Manila",
)

THEMES: tuple[str, ...] = (
    "Organized Crime", "Kidnapping", "Extortion", "Human Trafficking", "Drug Policy",
    "Democratic Backsliding", "Electoral Violence", "Civil War", "Terrorism",
    "Counterterrorism", "Hostage Diplomacy", "Sexual Violence", "Human Rights",
    "Transitional Justice", "Rule of Law", "Police Reform", "Prison Systems",
    "Migration", "Refugee Protection", "Border Security", "Climate Security",
    "Energy Transition", "Food Security", "Public Health", "Pandemic Preparedness",
    "Nuclear Deterrence", "Arms Control", "Cybersecurity", "Disinformation",
    "Digital Authoritarianism", "Press Freedom", "Civil Society", "Social Movements",
    "Protest and Repression", "State Capacity", "Corruption", "Anti-Corruption",
    "Fiscal Policy", "Inequality", "Poverty and Governance", "Development Aid",
    "Humanitarian Access", "Peacekeeping", "Peace Negotiations", "Ceasefires",
    "Insurgency", "Militias", "Gang Governance", "Urban Violence", "Rural Conflict",
    "Land Rights", "Indigenous Rights", "Gender and Security", "Youth and Violence",
    "Memory and Reconciliation", "Religion and Politics", "Nationalism",
    "Populism", "Party Systems", "Judicial Independence", "Constitutional Reform",
    "Federalism", "Local Government", "Decentralization", "Sanctions",
    "Great Power Competition", "Alliances", "Trade and Security", "Supply Chains",
    "Maritime Security", "Space Policy", "Artificial Intelligence", "Surveillance",
    "Intelligence Oversight", "Diaspora Politics", "Remittances", "Labor Rights",
    "Education Policy", "Water Governance", "Wildfire Policy", "Oil Politics",
)

QUALIFIERS: tuple[str, ...] = (
    "Evidence from the Field", "Lessons for Policy", "A Comparative View",
    "New Research", "What Comes Next", "Past and Present", "Costs and Consequences",
    "Causes and Remedies", "A Decade Later", "Data and Debates", "Voices from the Ground",
    "Challenges and Opportunities", "The View from Washington", "Myths and Realities",
)

FIRST_NAMES: tuple[str, ...] = (
    "Amira", "Daniel", "Sofia", "Mateo", "Leila", "Noah", "Yael", "Omar", "Elena",
    "Samuel", "Priya", "Javier", "Hana", "David", "Fatima", "Lucas", "Maya", "Ahmed",
    "Isabel", "Tomas", "Nadia", "Gabriel", "Aisha", "Jonah", "Carmen", "Ravi", "Lena",
    "Diego", "Sara", "Karim", "Ana", "Michael", "Rosa", "Ibrahim", "Julia", "Andres",
    "Mei", "Benjamin", "Zainab", "Pablo", "Noor", "Ethan", "Valentina", "Yusuf", "Claire",
    "Alejandro", "Dina", "Hiroshi", "Grace", "Tariq", "Ines", "Viktor", "Chloe", "Kwame",
    "Ruth", "Felipe", "Miriam", "Arjun", "Lucia", "Emeka", "Nora", "Sergio", "Tamar",
    "Jin", "Olivia", "Mustafa", "Paula", "Kofi", "Rachel", "Bruno", "Ayesha", "Henry",
    "Marta", "Dmitri", "Esther", "Rafael", "Laila", "Thomas", "Beatriz", "Ilan",
)

LAST_NAMES: tuple[str, ...] = (
    "Garcia", "Cohen", "Haddad", "Martinez", "Levi", "Okafor", "Rodriguez", "Nakamura",
    "Hernandez", "Friedman", "Mansour", "Lopez", "Shapiro", "Mensah", "Gonzalez", "Park",
    "Perez", "Rahman", "Sanchez", "Goldberg", "Ramirez", "Chen", "Torres", "Katz",
    "Flores", "Nguyen", "Rivera", "Mizrahi", "Gomez", "Kim", "Diaz", "Abbasi", "Morales",
    "Singh", "Reyes", "Weiss", "Cruz", "Patel", "Ortiz", "Ben-David", "Gutierrez", "Ali",
    "Chavez", "Tanaka", "Ramos", "Hoffman", "Ruiz", "Osei", "Alvarez", "Yilmaz", "Mendoza",
    "Petrov", "Castillo", "Schwartz", "Jimenez", "Adeyemi", "Vargas", "Sato", "Romero",
    "Kowalski", "Herrera", "Dubois", "Medina", "Rossi", "Aguilar", "Novak", "Castro",
    "Moreau", "Vega", "Ivanova", "Soto", "Fischer", "Delgado", "Khan", "Pena", "Bauer",
    "Rios", "Ozturk", "Navarro", "Lindqvist", "Salazar", "Wagner", "Campos", "Haile",
    "Guerrero", "Murphy", "Cortes", "Sullivan", "Espinoza", "Brennan", "Fuentes", "Walsh",
    "Magana", "Stein", "Luna", "Rosen", "Pacheco", "Eriksen", "Cardenas", "Mahmoud",
)

DEGREES: tuple[str, ...] = ("PhD", "MA, PhD", "JD", "JD, PhD", "MPP", "MD, MPH", "DPhil", "MSc, PhD")

ACADEMIC_ROLES: tuple[str, ...] = (
    "Senior Fellow", "Research Fellow", "Professor of Political Science", "Associate Professor",
    "Assistant Professor", "Visiting Scholar", "Postdoctoral Fellow", "Director",
    "Co-Director", "Faculty Affiliate", "Affiliated Faculty", "Program Manager",
    "Professor of Law", "Professor of History", "Lecturer", "Research Associate",
    "Doctoral Candidate", "Board Member", "Nonresident Fellow", "Policy Analyst",
)

ORG_FIELDS: tuple[str, ...] = (
    "International Security", "Democracy and Development", "Latin American Studies",
    "Middle East Studies", "African Studies", "Global Health", "Human Rights",
    "Public Policy", "Political Science", "Economics", "History", "Law", "Sociology",
    "Anthropology", "Conflict Resolution", "Migration Studies", "Environmental Policy",
    "Jewish Studies", "Islamic Studies", "East Asian Studies", "European Studies",
    "Peace Research", "Criminology", "Cyber Policy", "Energy Studies",
)

ORG_PARENT_KINDS: tuple[str, ...] = ("University of {place}", "{place} Institute of {field}",
                                     "{place} Foundation for {field}", "{place} Policy Council")
ORG_CHILD_KINDS: tuple[str, ...] = ("Center for {field}", "Program on {theme}", "Department of {field}",
                                    "Laboratory for {field}", "Initiative on {theme}", "School of {field}")

BUILDINGS: tuple[str, ...] = ("Encina", "Galvez", "Bechtel", "Herrin", "Lathrop", "Wallenberg", "Pigott",
                              "Margaret Jacks", "Cordura", "Littlefield", "Hoover Tower", "Old Union")
STREETS: tuple[str, ...] = ("Jane Stanford Way", "Serra Mall", "Campus Drive", "Galvez Street",
                            "Lasuen Street", "Panama Street", "Via Ortega", "Escondido Road")
TIMEZONES: tuple[str, ...] = ("America/Los_Angeles", "America/New_York", "America/Mexico_City",
                              "Europe/London", "Europe/Berlin", "Asia/Jerusalem", "UTC")

RESOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "counseling": ("Counseling Service", "Brief Therapy Program", "Wellness Center"),
    "hotline": ("Crisis Line", "Helpline", "24-Hour Hotline"),
    "support_group": ("Survivors Circle", "Peer Support Group", "Family Support Network"),
    "legal": ("Legal Aid Clinic", "Immigration Legal Services", "Victims' Rights Office"),
    "information": ("Information Center", "Resource Guide", "Community Referral Desk"),
    "other": ("Outreach Office", "Community Program", "Advocacy Network"),
}
AUDIENCES: tuple[str, ...] = ("Students", "Faculty and staff", "Survivors and families",
                              "Residents of the county", "Anyone affected by violence",
                              "Immigrants and refugees", "Young people")
HOURS: tuple[str, ...] = ("24/7", "Mon-Fri 9am-5pm", "Mon-Thu 10am-7pm", "Weekdays 8am-6pm",
                          "By appointment")
JOURNALS: tuple[str, ...] = ("Comparative Political Studies", "Journal of Conflict Resolution",
                             "World Politics", "International Security", "Journal of Peace Research",
                             "Latin American Research Review", "Journal of Democracy",
                             "Security Studies", "American Political Science Review")
PUBLISHERS: tuple[str, ...] = ("Cambridge University Press", "Oxford University Press",
                               "Stanford University Press", "Princeton University Press",
                               "Routledge", "Brookings Institution Press")
