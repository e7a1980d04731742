# ruff: noqa: E501  (prose: one wording per line reads better than wrapped strings)
"""Hand-written material for the dedup / story labelled sets (see README.md beside this file).

Per topic: headline wordings (an outlet picks one; a syndicated copy is retitled with another), lead
wordings, body paragraphs in several wordings each, and extra paragraphs that an editing outlet adds.
Slots in braces are filled with the facts of one invented event (build_sets.py): places are real cities
so that the region tagger has something to find; people, outlets and events are invented.
"""

# fmt: off
TOPICS = {
    "earthquake": {
        "headlines": [
            "Magnitude {mag} earthquake strikes near {city}, killing at least {n1}",
            "{n1} dead as strong quake shakes {country}'s {city} region",
            "Quake of magnitude {mag} hits {country}; rescuers search rubble in {city}",
            "Earthquake near {city} leaves {n1} dead and hundreds homeless",
        ],
        "leads": [
            "A magnitude {mag} earthquake struck near {city} in {country} on {day}, killing at least {n1} people and damaging {n3} buildings, {official_role} {official} said.",
            "At least {n1} people were killed when an earthquake of magnitude {mag} shook the area around {city} on {day}, according to {country}'s disaster agency.",
            "Rescue teams in {country} dug through collapsed homes near {city} on {day} after a magnitude {mag} earthquake killed at least {n1} people.",
        ],
        "body": [
            [
                "The quake hit at a depth of {depth} kilometres, the national seismology institute said, and was followed by more than {n2} aftershocks.",
                "Seismologists measured the quake's depth at {depth} kilometres; more than {n2} aftershocks rattled the region through the night.",
            ],
            [
                "\"We heard a roar and then the walls came down,\" said {witness}, a shopkeeper in {city2}, who spent the night outside with her family.",
                "{witness}, who runs a bakery in {city2}, said the shaking lasted almost a minute. \"Everything fell from the shelves at once,\" she said.",
            ],
            [
                "Hospitals in {city} treated {n2} injured people, and schools were closed for the rest of the week while engineers inspected them.",
                "The health ministry said {n2} people were injured. Classes were suspended across the province so that school buildings could be checked.",
            ],
            [
                "{official} said the government had released emergency funds and sent soldiers to help clear roads blocked by landslides.",
                "The government deployed troops to reopen roads cut by landslides, and {official} promised money to rebuild damaged homes.",
            ],
        ],
        "extra": [
            "The region lies on an active fault line and was last hit by a deadly earthquake in {year}.",
            "Aid groups said tents, blankets and drinking water were the most urgent needs as night temperatures fell.",
        ],
    },
    "flood": {
        "headlines": [
            "Floods in {country} kill {n1} as rivers burst their banks near {city}",
            "{n1} dead, thousands displaced by flooding around {city}",
            "Heavy rain floods {city}; {country} declares emergency",
            "Flood death toll in {country} rises to {n1} after days of rain",
        ],
        "leads": [
            "Flooding after days of torrential rain has killed at least {n1} people in {country} and forced {n3} from their homes around {city}, officials said on {day}.",
            "At least {n1} people have died in floods around {city}, where the river rose {depth} metres above its normal level, {official_role} {official} said on {day}.",
            "Rescuers in boats pulled residents from rooftops in {city} on {day} as floods that have killed {n1} people across {country} spread to new districts.",
        ],
        "body": [
            [
                "More than {n2} millimetres of rain fell in three days, the weather service said, more than the region usually receives in a month.",
                "The weather service recorded over {n2} millimetres of rainfall in 72 hours, and warned that more storms were on the way.",
            ],
            [
                "\"The water came into the house in minutes, we only saved the children,\" said {witness}, who was sheltering in a school in {city2}.",
                "{witness}, a farmer from near {city2}, said his fields and livestock were lost. \"There is nothing left to go back to,\" he said.",
            ],
            [
                "Authorities opened {n2} shelters and said drinking water and medicine were being flown to villages cut off by the water.",
                "Emergency shelters took in families, and helicopters dropped food and water to communities that could no longer be reached by road.",
            ],
            [
                "{official} declared a state of emergency in the province and asked neighbouring countries for pumps and rescue boats.",
                "The government declared an emergency and {official} said the army would stay until the waters receded.",
            ],
        ],
        "extra": [
            "Scientists say a warming climate makes extreme rainfall in the region more frequent and more intense.",
            "Insurers estimated the damage to homes and crops at several hundred million dollars.",
        ],
    },
    "wildfire": {
        "headlines": [
            "Wildfire near {city} forces {n3} to flee",
            "{country} wildfire burns {n2} hectares, thousands evacuated from {city} area",
            "Firefighters battle blaze on the edge of {city}",
            "Evacuations ordered as fire spreads towards {city}",
        ],
        "leads": [
            "A wildfire fanned by strong winds forced {n3} people to leave their homes near {city} in {country} on {day}, as more than {n4} firefighters tried to stop it reaching the town.",
            "Firefighters in {country} fought on {day} to contain a fire that has burned {n2} hectares of forest near {city} and destroyed at least {n1} homes.",
            "Authorities ordered the evacuation of several villages outside {city} on {day} as a fast-moving wildfire jumped a highway, {official_role} {official} said.",
        ],
        "body": [
            [
                "Temperatures above {temp} degrees and gusts of up to {n2} km/h made the fire hard to control, the fire service said.",
                "The fire service said heat of more than {temp} degrees and shifting winds had driven the flames across dry scrub.",
            ],
            [
                "\"We left with the clothes we were wearing,\" said {witness}, who watched the smoke from an evacuation centre in {city2}.",
                "{witness}, a retired teacher, said police knocked on her door in the middle of the night. \"The sky was orange,\" she said.",
            ],
            [
                "Water-bombing aircraft were sent from neighbouring regions, and the main road to {city2} was closed.",
                "Aircraft dropped water and retardant while ground crews cut firebreaks; the road to {city2} remained closed.",
            ],
            [
                "{official} said the cause of the fire was under investigation and warned that the risk would stay extreme for days.",
                "Investigators were looking into the cause, {official} said, adding that conditions would remain dangerous all week.",
            ],
        ],
        "extra": [
            "It is the third large fire in the region this summer, after a winter with almost no rain.",
            "Residents were told to keep windows closed because of the smoke, and several schools moved classes online.",
        ],
    },
    "election": {
        "headlines": [
            "{official} wins {country} presidential election with {pct}% of the vote",
            "{country} election: {official} claims victory, rival alleges fraud",
            "Voters in {country} hand {official} a clear win",
            "{official} elected president of {country}",
        ],
        "leads": [
            "{official} has won {country}'s presidential election with {pct} per cent of the vote, the electoral commission said on {day}, defeating {rival} after a bitter campaign.",
            "Preliminary results from {country}'s election commission on {day} gave {official} {pct} per cent of the votes cast, ahead of {rival}, who refused to concede.",
            "{official} claimed victory in {country}'s presidential vote on {day} after results showed a lead of more than {n1} points over {rival}.",
        ],
        "body": [
            [
                "Turnout was {turnout} per cent, the commission said, with long queues reported at polling stations in {city}.",
                "The commission put turnout at {turnout} per cent; voters in {city} waited for hours in the heat.",
            ],
            [
                "{rival} told supporters in {city2} that the count had been manipulated and said his party would challenge the result in court.",
                "In a speech in {city2}, {rival} alleged irregularities and said the opposition would not accept the figures.",
            ],
            [
                "International observers said the vote was largely orderly, though they noted problems with the registration of voters abroad.",
                "Observers from a regional mission described the election as generally peaceful but criticised unequal media coverage.",
            ],
            [
                "{official}, a former {profession}, campaigned on promises to cut prices and fight corruption.",
                "A former {profession}, {official} promised during the campaign to tackle inflation and corruption.",
            ],
        ],
        "extra": [
            "The new president is due to be sworn in next month and will face a parliament where no party has a majority.",
            "Markets rose on the result, and the currency gained against the dollar for the first time in weeks.",
        ],
    },
    "trial": {
        "headlines": [
            "Court in {city} jails former minister {official} for {n1} years",
            "{official} found guilty of corruption in {country}",
            "Ex-minister {official} sentenced over bribery scheme",
            "Verdict in {country} graft trial: {official} convicted",
        ],
        "leads": [
            "A court in {city} on {day} sentenced former {country} minister {official} to {n1} years in prison for taking bribes in exchange for public contracts worth {amount} million dollars.",
            "{official}, who served as {country}'s transport minister, was found guilty of corruption on {day} by a court in {city} and jailed for {n1} years.",
            "Judges in {city} convicted former minister {official} of bribery and money laundering on {day}, ending a trial that lasted {n2} months.",
        ],
        "body": [
            [
                "Prosecutors said {official} received payments through companies registered abroad while awarding road-building contracts.",
                "The prosecution showed that the payments were routed through shell companies while contracts for new roads were handed out.",
            ],
            [
                "{official}'s lawyer, {witness}, said the verdict was political and that his client would appeal.",
                "Defence lawyer {witness} told reporters outside the court in {city} that an appeal would be lodged within days.",
            ],
            [
                "The court also ordered the seizure of {n2} properties and fined a construction company linked to the case.",
                "Besides the prison term, judges ordered assets to be confiscated, including {n2} apartments.",
            ],
            [
                "Anti-corruption groups in {country} welcomed the ruling as a test of the courts' independence.",
                "Campaigners outside the courthouse cheered when the sentence was read out.",
            ],
        ],
        "extra": [
            "Two businessmen tried alongside the former minister received shorter sentences.",
            "The case began after a tax inspector noticed unusual transfers in {year}.",
        ],
    },
    "strike": {
        "headlines": [
            "{org} workers strike across {country}, halting services in {city}",
            "Nationwide strike in {country} as unions demand {pct}% pay rise",
            "Strike shuts down {org} in {city}",
            "Unions in {country} walk out over wages",
        ],
        "leads": [
            "Thousands of {org} workers walked off the job across {country} on {day}, demanding a pay rise of {pct} per cent and halting services in {city} and other cities.",
            "A strike by {org} staff paralysed services in {city} on {day} after talks between unions and the government in {country} collapsed, union leader {official} said.",
            "{country}'s biggest unions began a {n1}-day strike on {day}, with {org} workers in {city} leading protests over wages that have not kept up with prices.",
        ],
        "body": [
            [
                "Union leader {official} said wages had lost a fifth of their value in two years and that workers could no longer pay rent.",
                "According to {official}, who leads the union, prices have risen much faster than pay since the last agreement.",
            ],
            [
                "The government offered a rise of {n1} per cent, which unions rejected as an insult.",
                "Ministers had proposed an increase of {n1} per cent, far below what the unions are asking for.",
            ],
            [
                "\"We are not doing this lightly,\" said {witness}, a worker picketing outside the depot in {city2}.",
                "{witness}, on the picket line in {city2}, said many colleagues worked second jobs to get by.",
            ],
            [
                "Business groups warned that a long strike would hurt an economy that is barely growing.",
                "Employers' associations said the stoppage was costing millions every day.",
            ],
        ],
        "extra": [
            "A court is expected to rule next week on whether the strike is legal.",
            "It is the second stoppage this year after a one-day walkout in the spring.",
        ],
    },
    "train": {
        "headlines": [
            "Train crash near {city} kills {n1}",
            "{n1} dead after passenger train derails in {country}",
            "Derailment in {country}: rescuers search wreckage near {city}",
            "Deadly rail accident on {city} line",
        ],
        "leads": [
            "A passenger train derailed near {city} in {country} on {day}, killing at least {n1} people and injuring {n2}, the rail operator said.",
            "At least {n1} people died when a train travelling from {city} to {city2} came off the tracks on {day}, {official_role} {official} said.",
            "Rescuers worked through the night near {city} after a train carrying about {n3} passengers derailed on {day}, leaving {n1} people dead.",
        ],
        "body": [
            [
                "Several carriages overturned on a bend, and some fell down an embankment, officials said.",
                "Officials said {n1} carriages left the rails on a curve and two of them rolled down a slope.",
            ],
            [
                "\"People were screaming and there was glass everywhere,\" said {witness}, a passenger who escaped with cuts to her arms.",
                "{witness}, who was in the third carriage, said passengers broke windows to climb out.",
            ],
            [
                "{official} said an investigation would look at the state of the track and the train's speed.",
                "Investigators were examining the signalling system and the speed of the train, {official} said.",
            ],
            [
                "The line between {city} and {city2} was closed and buses replaced trains.",
                "Services on the route were suspended, and the operator laid on replacement buses.",
            ],
        ],
        "extra": [
            "Rail unions have long complained that the network is underfunded and that maintenance has been delayed.",
            "It is the country's deadliest rail accident in more than a decade.",
        ],
    },
    "rates": {
        "headlines": [
            "{country}'s central bank raises interest rate to {rate}%",
            "Central bank in {country} lifts rates to fight inflation",
            "{country} rate decision: bank hikes to {rate}%",
            "Inflation pushes {country}'s central bank to raise rates again",
        ],
        "leads": [
            "{country}'s central bank raised its main interest rate to {rate} per cent on {day}, saying inflation of {pct} per cent was still too high, governor {official} said in {city}.",
            "The central bank of {country} increased borrowing costs for the {nth} time this year on {day}, taking its benchmark rate to {rate} per cent.",
            "Policymakers in {city} lifted {country}'s key rate to {rate} per cent on {day}, a bigger move than most economists had expected.",
        ],
        "body": [
            [
                "Governor {official} told reporters that food and energy prices were feeding into wages and rents.",
                "{official}, the bank's governor, said higher food and fuel costs were spreading to the rest of the economy.",
            ],
            [
                "Annual inflation stood at {pct} per cent last month, well above the bank's target.",
                "Consumer prices rose {pct} per cent from a year earlier, official figures showed.",
            ],
            [
                "The currency strengthened after the decision, and bond yields rose.",
                "Markets reacted calmly; the currency gained slightly against the dollar.",
            ],
            [
                "Economists at {org} said the bank was likely to pause at its next meeting.",
                "Analysts said further increases could not be ruled out if prices kept rising.",
            ],
        ],
        "extra": [
            "Business groups have complained that higher rates are making loans unaffordable for small firms.",
            "The bank also cut its growth forecast for the year.",
        ],
    },
    "protest": {
        "headlines": [
            "Thousands protest in {city} against {cause}",
            "Police clash with protesters in {country}'s {city}",
            "Protests over {cause} spread in {country}",
            "{city} protest: dozens arrested",
        ],
        "leads": [
            "Thousands of people marched through {city} on {day} to protest against {cause}, and police used tear gas to break up crowds outside parliament in {country}'s capital region.",
            "Police in {city} arrested {n1} people on {day} as protests against {cause} entered their {nth} day in {country}.",
            "Protesters blocked roads in {city} on {day}, demanding that the government of {country} drop {cause}, organiser {official} said.",
        ],
        "body": [
            [
                "Organisers said {n3} people took part; police put the figure much lower.",
                "Police estimated the crowd at a few thousand, while organisers claimed {n3}.",
            ],
            [
                "\"We are here because nobody listens to us,\" said {witness}, a student who travelled from {city2}.",
                "{witness}, who came from {city2} with friends, said young people felt ignored.",
            ],
            [
                "The interior ministry said {n2} officers were injured and accused some protesters of violence.",
                "Officials said {n2} police officers were hurt and that the protest had not been authorised.",
            ],
            [
                "Rights groups called on the authorities to release those detained and to respect the right to protest.",
                "Human rights organisations condemned the arrests.",
            ],
        ],
        "extra": [
            "Similar demonstrations were held in several other cities over the weekend.",
            "The government said it was open to dialogue but would not withdraw the measure.",
        ],
    },
    "explosion": {
        "headlines": [
            "Explosion at chemical plant near {city} kills {n1}",
            "Blast at factory in {country} leaves {n1} dead",
            "{city} factory explosion: dozens injured",
            "Deadly blast rocks industrial zone outside {city}",
        ],
        "leads": [
            "An explosion at a chemical plant near {city} in {country} killed at least {n1} workers on {day} and sent a column of black smoke over the city, {official_role} {official} said.",
            "At least {n1} people were killed and {n2} injured when a blast tore through a factory in an industrial zone outside {city} on {day}.",
            "Firefighters in {country} battled flames for hours on {day} after an explosion at a fertiliser plant near {city} left {n1} people dead.",
        ],
        "body": [
            [
                "The blast happened during a shift change, when about {n3} people were on site, the company said.",
                "According to the company, around {n3} employees were at the plant when the explosion happened.",
            ],
            [
                "\"The windows of our flat shattered,\" said {witness}, who lives about a kilometre away in {city2}.",
                "{witness}, a resident of {city2}, said the blast shook buildings across the neighbourhood.",
            ],
            [
                "Residents were told to stay indoors because of the smoke, and the authorities tested the air for toxic gases.",
                "Authorities urged people nearby to keep windows shut while they checked the air quality.",
            ],
            [
                "{official} said prosecutors had opened an inquiry into safety standards at the plant.",
                "Prosecutors opened a criminal investigation, {official} said, and the plant's manager was questioned.",
            ],
        ],
        "extra": [
            "Inspectors had fined the company for safety breaches {n1} years ago.",
            "Workers' unions called for a national review of safety at chemical plants.",
        ],
    },
}
# fmt: on

# Real cities (so that the tagger has something to find) and their countries; at least two per country,
# so that look-alike events can happen in the same country.
CITIES = [
    ("Izmir", "Turkey"),
    ("Antalya", "Turkey"),
    ("Konya", "Turkey"),
    ("Valparaiso", "Chile"),
    ("Concepcion", "Chile"),
    ("Antofagasta", "Chile"),
    ("Arequipa", "Peru"),
    ("Trujillo", "Peru"),
    ("Cusco", "Peru"),
    ("Cebu", "Philippines"),
    ("Davao", "Philippines"),
    ("Iloilo", "Philippines"),
    ("Surabaya", "Indonesia"),
    ("Medan", "Indonesia"),
    ("Makassar", "Indonesia"),
    ("Porto Alegre", "Brazil"),
    ("Recife", "Brazil"),
    ("Manaus", "Brazil"),
    ("Mombasa", "Kenya"),
    ("Kisumu", "Kenya"),
    ("Nakuru", "Kenya"),
    ("Lahore", "Pakistan"),
    ("Peshawar", "Pakistan"),
    ("Multan", "Pakistan"),
    ("Chittagong", "Bangladesh"),
    ("Khulna", "Bangladesh"),
    ("Sylhet", "Bangladesh"),
    ("Seville", "Spain"),
    ("Valencia", "Spain"),
    ("Bilbao", "Spain"),
    ("Thessaloniki", "Greece"),
    ("Patras", "Greece"),
    ("Heraklion", "Greece"),
    ("Marseille", "France"),
    ("Lyon", "France"),
    ("Toulouse", "France"),
    ("Guadalajara", "Mexico"),
    ("Monterrey", "Mexico"),
    ("Puebla", "Mexico"),
    ("Kano", "Nigeria"),
    ("Ibadan", "Nigeria"),
    ("Port Harcourt", "Nigeria"),
    ("Durban", "South Africa"),
    ("Cape Town", "South Africa"),
    ("Port Elizabeth", "South Africa"),
    ("Kharkiv", "Ukraine"),
    ("Odesa", "Ukraine"),
    ("Lviv", "Ukraine"),
    ("Krakow", "Poland"),
    ("Gdansk", "Poland"),
    ("Wroclaw", "Poland"),
    ("Mashhad", "Iran"),
    ("Tabriz", "Iran"),
    ("Shiraz", "Iran"),
    ("Osaka", "Japan"),
    ("Sapporo", "Japan"),
    ("Fukuoka", "Japan"),
    ("Busan", "South Korea"),
    ("Daegu", "South Korea"),
    ("Incheon", "South Korea"),
    ("Medellin", "Colombia"),
    ("Cali", "Colombia"),
    ("Barranquilla", "Colombia"),
    ("Casablanca", "Morocco"),
    ("Marrakesh", "Morocco"),
    ("Fez", "Morocco"),
    ("Alexandria", "Egypt"),
    ("Aswan", "Egypt"),
    ("Luxor", "Egypt"),
    ("Chennai", "India"),
    ("Kolkata", "India"),
    ("Pune", "India"),
    ("Cordoba", "Argentina"),
    ("Rosario", "Argentina"),
    ("Mendoza", "Argentina"),
    ("Naples", "Italy"),
    ("Palermo", "Italy"),
    ("Turin", "Italy"),
]

FIRST_NAMES = [
    "Amara",
    "Bilal",
    "Camila",
    "Dario",
    "Elif",
    "Farid",
    "Greta",
    "Hamid",
    "Ines",
    "Jonas",
    "Kemal",
    "Lucia",
    "Marek",
    "Nadia",
    "Oren",
    "Paola",
    "Rafael",
    "Selin",
    "Tariq",
    "Ulla",
    "Viktor",
    "Wanjiru",
    "Yara",
    "Zoran",
    "Aylin",
    "Bogdan",
    "Chiara",
    "Dmitri",
    "Esra",
    "Fabio",
    "Goran",
    "Halima",
    "Ivo",
    "Joana",
    "Karim",
    "Leyla",
    "Matteo",
    "Nuri",
    "Olena",
    "Pedro",
]
LAST_NAMES = [
    "Achterberg",
    "Balogun",
    "Castellanos",
    "Demir",
    "Esposito",
    "Farouk",
    "Gallardo",
    "Hadzic",
    "Iwasaki",
    "Jovanovic",
    "Kariuki",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okonkwo",
    "Petrenko",
    "Quispe",
    "Rahimi",
    "Szabo",
    "Tanaka",
    "Uzun",
    "Valdivia",
    "Wojcik",
    "Yilmaz",
    "Zamora",
    "Abernathy",
    "Brankovic",
    "Cardoso",
    "Dimitriou",
    "Elbaz",
    "Ferreira",
    "Gashi",
    "Hollander",
    "Ilunga",
    "Juarez",
    "Kovalenko",
    "Lombardi",
    "Mwangi",
    "Novak",
    "Ortega",
]
ROLES = [
    "civil protection chief",
    "regional governor",
    "interior minister",
    "mayor",
    "emergency services director",
]
PROFESSIONS = ["judge", "central banker", "mayor", "football coach", "surgeon", "television presenter"]
ORGS = ["railway", "port", "hospital", "airport", "public transport", "postal service", "teachers'"]
CAUSES = [
    "a new tax on fuel",
    "cuts to university funding",
    "a law restricting foreign-funded groups",
    "rising bread prices",
    "a pension reform",
    "the closure of a coal mine",
    "a mining concession",
]

# Outlets and what they wrap around a copy: agency sign-offs, prompts, "read more" lines.
OUTLETS = [
    ("Harbour Chronicle", "harbourchronicle.com", ["Advertisement", "Share this article"]),
    (
        "Daily Meridian",
        "dailymeridian.co.uk",
        ["Sign up for our morning briefing", "Read more: our coverage of the region"],
    ),
    ("Eastern Wire", "easternwire.net", ["(Reporting by {reporter}; Editing by {editor})"]),
    ("Atlas Post", "atlaspost.org", ["Related: what we know so far", "Advertisement"]),
    (
        "Continental Times",
        "continentaltimes.eu",
        ["This article was amended to correct a figure.", "Share on social media"],
    ),
    ("The Observer Star", "observerstar.com.au", ["Want more news? Download our app."]),
    ("Southern Ledger", "southernledger.co.za", ["Additional reporting by {reporter}"]),
    (
        "Metro Dispatch",
        "metrodispatch.com",
        ["Copyright Metro Dispatch. All rights reserved.", "Advertisement"],
    ),
    ("Global Digest", "globaldigest.org", ["Source: agencies"]),
    ("Northern Herald", "northernherald.ca", ["With files from {reporter}", "Share this story"]),
    ("Pacific Monitor", "pacificmonitor.com", ["Follow us for live updates."]),
    ("The Continental", "thecontinental.ie", ["(AFP)"]),
]
