"""Generate a seeded synthetic week of UK healthcare-hashtag posts in the JSONL import format, with truth."""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import ChainMap, Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "CAMPS",
    "SampleConversation",
    "dumps_jsonl",
    "dumps_truth",
    "generate_conversation",
    "main",
    "summarise",
    "write_sample",
]

# ISO week 2026-W47, Monday 2026-11-16 00:00 UTC to Sunday 2026-11-22 23:59 UTC.
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)
WEEK_SECONDS = 7 * 86400 - 60  # last allowed second offset: 23:59:00 on Sunday
PLATFORM = "sample"

ORIGINAL, REPLY, QUOTE, REPOST = "original", "reply", "quote", "repost"
CONSTRUCTIVE, NEUTRAL, HOSTILE = "constructive", "neutral", "hostile"
REGULAR, LEADER, BRIDGER, HOSTILE_ROLE, NEWSDESK = "regular", "leader", "bridger", "hostile", "newsdesk"

Slot = Sequence[str] | Callable[[random.Random], str]
Grammar = Mapping[str, Slot]

# Posts per hour of day (UTC ≈ UK time in November) and per weekday: busy daytime and evenings, quiet nights.
HOUR_WEIGHTS = (
    0.25, 0.14, 0.08, 0.05, 0.05, 0.1, 0.35, 0.8, 1.1, 1.2, 1.15, 1.1,
    1.25, 1.2, 1.05, 1.0, 1.0, 1.1, 1.2, 1.3, 1.35, 1.25, 0.9, 0.5,
)  # fmt: skip
DAY_WEIGHTS = (1.0, 1.05, 1.0, 0.95, 0.9, 0.65, 0.7)
_MAX_HOUR_WEIGHT = max(HOUR_WEIGHTS)


# ---------------------------------------------------------------------------------------------------------
# Grammar: shared pieces
# ---------------------------------------------------------------------------------------------------------


def _num(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _big(rng: random.Random) -> str:
    return f"{rng.randint(5, 240) * 100:,}"


def _money(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"£{rng.randint(2, 900)}m"
    return f"£{rng.randint(15, 950)}k"


_URL_HOSTS = (
    "www.example.org/reports",
    "news.example.co.uk/health",
    "journal.example.org/doi/10.5555",
    "blog.example.net",
    "www.example.nhs.uk/news",
    "survey.example.org/r",
    "events.example.org",
    "data.example.org.uk/dashboards",
    "video.example.com/watch",
)
_URL_WORDS = (
    "gp-access", "workforce", "waiting-times", "discharge", "digital", "carers", "pharmacy", "outsourcing",
    "survey", "winter", "primary-care", "funding", "audit", "evaluation", "community", "ambulance",
    "mental-health", "virtual-wards", "contract", "staffing", "patients", "trust-board", "briefing",
)  # fmt: skip


def _url(rng: random.Random) -> str:
    host = rng.choice(_URL_HOSTS)
    if "doi" in host:
        return f"https://{host}/hsr.{rng.randint(2026, 2026)}.{rng.randint(100, 9999)}"
    words = "-".join(rng.sample(_URL_WORDS, rng.randint(1, 3)))
    return f"https://{host}/{words}-{rng.randint(2, 999)}"


PLACES = (
    "Leeds", "Bradford", "Hull", "Sheffield", "York", "Wakefield", "Manchester", "Salford", "Bolton", "Wigan",
    "Oldham", "Liverpool", "Preston", "Blackpool", "Lancaster", "Newcastle", "Sunderland", "Durham",
    "Middlesbrough", "Carlisle", "Birmingham", "Coventry", "Wolverhampton", "Walsall", "Stoke", "Derby",
    "Nottingham", "Leicester", "Lincoln", "Grimsby", "Norwich", "Ipswich", "Cambridge", "Peterborough",
    "Luton", "Oxford", "Reading", "Swindon", "Bristol", "Bath", "Exeter", "Plymouth", "Truro",
    "Southampton", "Portsmouth", "Brighton", "Hastings", "Canterbury", "Margate", "Croydon", "Lewisham",
    "Hackney", "Tower Hamlets", "Barnet", "Cornwall", "Devon", "Cumbria", "Norfolk", "Suffolk", "Somerset",
    "Gloucester", "Hereford", "Shropshire", "Cardiff", "Swansea", "Wrexham", "Glasgow", "Edinburgh",
    "Dundee", "Belfast", "Barrow", "Scarborough", "Harrogate", "Doncaster", "Rotherham", "Telford",
)  # fmt: skip

SHARED: dict[str, Slot] = {
    "place": PLACES,
    "service": (
        "A&E",
        "the urgent treatment centre",
        "district nursing",
        "community pharmacy",
        "health visiting",
        "CAMHS",
        "social prescribing",
        "community physio",
        "111",
        "ambulance handovers",
        "the discharge team",
        "hospice care",
        "NHS dentistry",
        "the maternity unit",
        "the community mental health team",
        "the out-of-hours service",
        "the minor injuries unit",
        "the memory clinic",
        "the diabetes clinic",
        "the falls service",
        "the virtual ward",
        "general practice",
        "the same-day access hub",
        "the frailty unit",
        "the eating disorder service",
        "the stroke unit",
        "audiology",
        "the wound clinic",
    ),
    "staff": (
        "GPs",
        "practice nurses",
        "district nurses",
        "pharmacists",
        "physios",
        "paramedics",
        "receptionists",
        "health visitors",
        "midwives",
        "healthcare assistants",
        "OTs",
        "care coordinators",
        "social prescribers",
        "resident doctors",
        "porters",
        "ward clerks",
        "practice managers",
        "community matrons",
        "dietitians",
        "speech and language therapists",
    ),
    "relative": (
        "mum",
        "dad",
        "nan",
        "grandad",
        "partner",
        "son",
        "daughter",
        "neighbour",
        "brother",
        "sister",
        "best mate",
        "father-in-law",
        "aunt",
        "husband",
        "wife",
    ),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "when": (
        "this morning",
        "yesterday",
        "last night",
        "on Monday",
        "this week",
        "last Thursday",
        "earlier today",
        "over the weekend",
        "at 3am",
        "before lunch",
    ),
    "clock": ("9am", "10am", "12:30", "1pm", "2pm", "4pm", "6pm", "7pm", "7:30pm", "8pm"),
    "n_small": _num(2, 14),
    "n": _num(12, 480),
    "n_big": _big,
    "pct": _num(6, 84),
    "weeks": _num(2, 28),
    "months": _num(2, 18),
    "money": _money,
    "url": _url,
    "venue": (
        "the town hall",
        "the central library",
        "the medical school",
        "the community centre",
        "the postgraduate centre",
        "online",
        "the football club lounge",
        "the council chamber",
        "the education centre",
    ),
    "cost_alt": (
        "one more round of management consultants",
        "a single agency locum for a year",
        "another glossy strategy document",
        "a week of corridor care",
        "the next reorganisation",
        "one failed IT procurement",
    ),
    "report": (
        "a new audit",
        "this morning's figures",
        "the annual staff survey",
        "the national patient survey",
        "a new evaluation",
        "the latest workforce data",
        "a select committee report",
        "a trust board paper",
        "an independent review",
        "a regulator's report",
        "a new briefing",
    ),
    "event_kind": (
        "Public meeting",
        "Webinar",
        "Drop-in session",
        "Panel discussion",
        "Listening event",
        "Town hall Q&A",
        "Community forum",
        "Journal club",
    ),
    "shared_goal": (
        "shorter waits",
        "safer staffing",
        "a clinician who knows you",
        "less time lost to admin",
        "care closer to home",
        "a properly funded NHS",
        "fewer people stuck in hospital beds",
        "services that work for carers",
        "staff who want to stay",
        "honest data",
        "earlier diagnosis",
    ),
    "insult_noun": (
        "clowns",
        "idiots",
        "liars",
        "muppets",
        "morons",
        "grifters",
        "hypocrites",
        "cowards",
        "numpties",
        "chancers",
        "charlatans",
        "jokers",
    ),
    "insult_noun_sing": (
        "clown",
        "idiot",
        "liar",
        "muppet",
        "moron",
        "grifter",
        "hypocrite",
        "numpty",
        "chancer",
        "shill",
        "joker",
    ),
    "insult_adj": (
        "clueless",
        "spineless",
        "useless",
        "pathetic",
        "shameless",
        "gutless",
        "brainless",
        "deluded",
        "smug",
        "dishonest",
    ),
    "lair": ("echo chamber", "think tank", "LinkedIn", "ivory tower", "little bubble", "boardroom"),
}


# ---------------------------------------------------------------------------------------------------------
# Grammar: one vocabulary per camp
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Camp:
    """One echo chamber: its name, hashtags, stakeholder mix and its own vocabulary."""

    key: str
    name: str
    tags: tuple[str, ...]
    stakeholders: Mapping[str, float]
    grammar: dict[str, Slot]


CAMPS: tuple[Camp, ...] = (
    Camp(
        key="gp_workforce",
        name="GP workforce and pay campaigners",
        tags=("GPcrisis", "SaveGeneralPractice", "GPworkforce", "PrimaryCare", "CollectiveAction"),
        stakeholders={
            "gp": 0.45,
            "nurse": 0.12,
            "pharmacist": 0.08,
            "allied_health": 0.05,
            "patient": 0.05,
            "researcher": 0.05,
            "other": 0.14,
            "journalist": 0.03,
            "politician": 0.03,
        },
        grammar={
            "topic": (
                "the GP contract",
                "ARRS funding",
                "unemployed newly qualified GPs",
                "practice closures",
                "list sizes",
                "partner burnout",
                "the 8am scramble",
                "continuity of care",
                "locum rates",
                "core funding per patient",
                "premises costs",
                "safe working limits",
                "the Global Sum",
                "GP retention",
                "trainee placements",
                "appointment targets",
                "online triage in practices",
            ),
            "problem": (
                "practices are handing back their contracts",
                "newly qualified GPs cannot find jobs",
                "partners are doing 14-hour days",
                "the 8am phone rush is back",
                "list sizes keep climbing",
                "experienced GPs are retiring early",
                "practices cannot afford to hire the GPs they need",
                "continuity has been traded for throughput",
                "premises are falling apart",
            ),
            "problem_short": (
                "the funding gap",
                "the retirement cliff",
                "the 8am rush",
                "GP unemployment",
                "three-week waits",
                "burnout",
            ),
            "solution": (
                "fund the core contract properly rather than bolting on new schemes",
                "let practices use ARRS money to employ GPs",
                "cap safe daily contacts per clinician",
                "fix premises funding so practices can take on trainees",
                "give every patient with complex needs a named GP",
                "cut the box-ticking and trust clinicians",
                "guarantee a salaried post to every new GP",
                "pay for continuity, not just activity",
                "protect protected learning time every month",
                "let practices pool back-office work across the PCN",
                "publish practice-level funding so patients can see the gap",
            ),
            "claim": (
                "{Topic} is the reason {problem}.",
                "Nobody outside primary care seems to notice that {problem}.",
                "If we don't sort {topic}, {problem} and the rest of the NHS feels it within a year.",
                "General practice does the bulk of NHS contacts on a sliver of the budget, and {problem}.",
                "Worth saying plainly: {problem}, and patients are the ones who wait.",
                "In {place}, {problem}. That is not a staffing blip, it is a policy choice.",
                "The fight over {topic} is really a fight about whether patients get to see the same GP twice.",
            ),
            "evidence": (
                "Our practice in {place} lost {n_small} GPs in {months} months and recruited one.",
                "{Pct}% of the {n} GPs in our federation say they will cut sessions next year.",
                "We audited {n} same-day requests: {pct}% could have waited with a named GP follow-up.",
                "Locally, {n_small} practices have closed since {weekday}'s board meeting was first delayed.",
                "Across {place}, each full-time GP now covers about {n_big} patients.",
                "Our list grew by {n} patients this year while funding per head fell in real terms.",
            ),
            "story": (
                "Saw {n_small} patients before 10am {when}, then spent the afternoon on {n} lab results.",
                "A newly qualified GP I trained in {place} is now driving deliveries because no practice can "
                "afford her.",
                "Our receptionist took {n} calls before 8:30 {when}. She was brilliant. She is also exhausted.",
                "Handed my notice in as a partner {when}. Not because I stopped caring.",
            ),
            "enemy": (
                "NHS England bosses",
                "the ministers",
                "the management consultants",
                "the tech bros",
                "the people who wrote this contract",
                "the think-tank crowd",
                "the integrated care board",
            ),
            "jab": (
                "Another 'new model of care' from people who have never done a morning surgery.",
                "Apparently the answer to no GPs is an app. Brilliant.",
                "They want us seeing 40-plus patients a day and smiling about it.",
            ),
            "unit": ("same-day requests", "home visits", "consultations", "prescription queries"),
            "finding": (
                "needed a GP rather than a signpost",
                "could have been seen by a practice nurse",
                "were repeat contacts for the same problem",
                "came from patients without a named GP",
            ),
            "intervention": ("a named-GP pilot", "a duty doctor rota", "a shared PCN triage hub"),
            "metric": ("A&E attendances", "repeat appointments", "complaints", "locum spend"),
            "news": (
                "Vote on the new GP contract opens {weekday}.",
                "Practices in {place} to consult on merging back-office teams.",
                "GP trainee numbers for next year published: {n_big} places.",
                "Local medical committee meeting on {topic} moved to {weekday}.",
            ),
            "group_name": ("GP colleagues", "the SaveGeneralPractice crowd", "practice teams"),
            "own_group": ("GPs", "practice teams", "general practice"),
        },
    ),
    Camp(
        key="digital_health",
        name="Digital-health innovators and clinical entrepreneurs",
        tags=("DigitalHealth", "ClinicalEntrepreneurs", "AI", "HealthTech", "NHSInnovation"),
        stakeholders={
            "industry": 0.35,
            "gp": 0.14,
            "researcher": 0.15,
            "nurse": 0.08,
            "allied_health": 0.08,
            "pharmacist": 0.04,
            "other": 0.11,
            "patient": 0.03,
            "journalist": 0.02,
        },
        grammar={
            "topic": (
                "remote monitoring",
                "AI triage",
                "the NHS App",
                "shared care records",
                "virtual wards",
                "ambient voice scribes",
                "online consultation tools",
                "interoperability",
                "digital inclusion",
                "procurement rules",
                "data standards",
                "the federated data platform",
                "e-prescribing",
                "AI in radiology",
                "clinical safety cases",
                "patient-held records",
            ),
            "problem": (
                "every trust buys a different system that cannot talk to the others",
                "pilots never make it past year one",
                "staff spend hours copying between screens",
                "procurement takes longer than the product's lifespan",
                "patients who cannot use apps get left behind",
                "good evaluations never get published",
                "clinicians are brought in after the contract is signed",
            ),
            "problem_short": (
                "pilotitis",
                "the interoperability mess",
                "digital exclusion",
                "vendor lock-in",
                "the procurement maze",
            ),
            "solution": (
                "pilot with clinicians in the room from day one",
                "publish the evaluation data openly",
                "fund digital inclusion hubs in libraries",
                "fix interoperability before buying new tools",
                "measure time saved for staff, not just clicks",
                "build a phone route for patients who can't use apps",
                "adopt one open data standard across the ICS",
                "pay for outcomes instead of licences",
                "share clinical safety cases between trusts",
                "let nurses lead on which tools actually get rolled out",
            ),
            "claim": (
                "{Topic} could give {staff} hours back every week, but only if {problem_short} gets fixed.",
                "The honest truth about {topic}: the tech is the easy part, {problem}.",
                "We keep saying 'innovation' while {problem}.",
                "{Topic} works when it is designed with {staff}, not for them.",
                "If {topic} only helps the digitally confident, we have built a two-tier service.",
                "Most of what gets called AI in the NHS is really {topic}, and that is fine if it helps.",
            ),
            "evidence": (
                "Our {topic} pilot in {place} saved {pct} minutes per clinic across {n} sessions.",
                "{Pct}% of the {n} patients on the virtual ward in {place} went home a day earlier.",
                "{Pct}% of staff in our evaluation said {topic} cut their admin, {pct}% said it added to it.",
                "Across {n_small} trusts, {pct}% of referrals still arrive by fax or post.",
                "In {place} we found {pct}% of over-75s had never logged into the NHS App.",
            ),
            "story": (
                "Spent {when} shadowing {staff} in {place}: {n} clicks to book one follow-up.",
                "My {relative} uses a remote monitoring kit now and the nurse rings when the readings dip. "
                "Genuinely life-changing.",
                "Demoed our tool to {n_small} {staff} {when}. Best feedback: 'finally, something that saves "
                "time'.",
            ),
            "enemy": (
                "the fax-machine brigade",
                "the Luddites",
                "the union militants",
                "the people blocking every pilot",
                "the committee-of-committees crowd",
                "the doom merchants",
            ),
            "jab": (
                "Some people would still be using leeches if the union let them.",
                "Yes, let's keep faxing discharge letters in 2026. Great plan.",
                "The same people moaning about workload block every tool that reduces it.",
            ),
            "unit": ("referrals", "clinic letters", "discharge summaries", "app log-ins"),
            "finding": (
                "were duplicated across two systems",
                "arrived after the patient had been seen",
                "needed manual re-keying",
                "came from the same {n_small} practices",
            ),
            "intervention": ("remote monitoring", "an ambient scribe pilot", "e-referral triage"),
            "metric": ("clinic admin time", "did-not-attend rates", "readmissions", "letter backlog"),
            "news": (
                "Applications open for the next clinical entrepreneur cohort.",
                "New national guidance on {topic} published.",
                "ICS in {place} signs deal for a shared care record.",
                "Evaluation of {topic} across {n_small} trusts due out {weekday}.",
            ),
            "group_name": ("the digital health crowd", "health-tech founders", "clinical entrepreneurs"),
            "own_group": ("digital teams", "health-tech folk", "clinical entrepreneurs"),
        },
    ),
    Camp(
        key="privatisation_critics",
        name="NHS-privatisation critics",
        tags=("NotForSale", "SaveOurNHS", "PublicNHS", "NHSCuts", "FundTheNHS"),
        stakeholders={
            "other": 0.33,
            "nurse": 0.2,
            "patient": 0.12,
            "gp": 0.08,
            "allied_health": 0.1,
            "researcher": 0.06,
            "politician": 0.05,
            "journalist": 0.06,
        },
        grammar={
            "topic": (
                "outsourcing contracts",
                "private hospital deals",
                "insourcing",
                "PFI repayments",
                "agency spending",
                "private ambulance contracts",
                "consultancy spend",
                "the NHS estate",
                "independent sector treatment centres",
                "two-tier care",
                "the waiting list",
                "staff pay",
                "social care funding",
                "hospital car parking contracts",
            ),
            "problem": (
                "public money is flowing out to shareholders",
                "the NHS trains staff and private firms poach them",
                "private providers cherry-pick the easy cases",
                "PFI repayments eat the maintenance budget",
                "agency spend keeps rising while wards stay short",
                "contracts are hidden behind commercial confidentiality",
                "outsourced cleaning keeps failing inspections",
            ),
            "problem_short": (
                "the PFI drain",
                "outsourcing failures",
                "agency spend",
                "secret contracts",
                "cherry-picking",
            ),
            "solution": (
                "bring cleaning and portering back in-house",
                "publish every outsourcing contract in full",
                "invest in NHS theatre capacity instead of renting it",
                "cap agency spend and pay staff properly",
                "buy out the worst PFI deals",
                "require private providers to train staff too",
                "put staff and patients on the board that awards contracts",
                "ring-fence capital so trusts stop selling land",
                "audit every private contract against NHS costs",
            ),
            "claim": (
                "Every pound spent on {topic} is a pound not spent on staff.",
                "People keep asking why waits are long. Part of the answer: {problem}.",
                "{Topic} is sold as efficiency, but {problem}.",
                "The public never voted for {topic}, yet here we are.",
                "Follow the money on {topic} and you find that {problem}.",
                "In {place} {problem}, and the board still calls it value for money.",
            ),
            "evidence": (
                "Our trust paid {money} to private providers last year, {pct}% more than the year before.",
                "The FOI came back: {money} on agency staff in {place} in {months} months.",
                "{Pct}% of the operations sent to the private hospital in {place} were the simplest cases.",
                "The PFI deal in {place} will cost {money} more than the hospital was worth.",
                "After insourcing in {place}, cleaning scores rose {pct}% and sickness fell.",
            ),
            "story": (
                "Worked {n_small} nights on agency rates {when} beside a colleague paid half as much for the "
                "same job.",
                "My {relative} was sent to a private clinic for a scan, then back to the NHS when it got "
                "complicated.",
                "Stood outside the hospital in {place} {when} with {n} people in the rain. Nobody wants this "
                "sold off.",
            ),
            "enemy": (
                "the privatisers",
                "the private sector vultures",
                "the ministers",
                "the shareholders",
                "the consultancy firms",
                "the tech salesmen",
                "the health secretary's mates",
            ),
            "jab": (
                "Funny how the 'efficiency' always ends up in an offshore account.",
                "They'd sell the ambulances if they thought nobody was looking.",
                "Thoughts and prayers for the shareholders, I suppose.",
            ),
            "unit": ("contracts", "FOI responses", "board papers", "procurement notices"),
            "finding": (
                "had no published value",
                "went to the same {n_small} firms",
                "were extended without tender",
                "cost more than the NHS equivalent",
            ),
            "intervention": ("insourcing cleaning", "an in-house staff bank", "ending the PFI contract"),
            "metric": ("agency spend", "staff turnover", "infection rates", "waiting times"),
            "news": (
                "Board papers show {place} trust plans to extend its outsourcing contract.",
                "March for a public NHS in {place} on {weekday}.",
                "New FOI data on {topic} published today.",
                "Petition on {topic} passes {n_big} signatures.",
            ),
            "group_name": ("the NotForSale campaigners", "public-NHS campaigners", "the SaveOurNHS folk"),
            "own_group": ("campaigners", "public-NHS supporters", "union reps"),
        },
    ),
    Camp(
        key="patient_advocates",
        name="Patient advocates and carers",
        tags=("PatientVoice", "CarersWeek", "CarersRights", "PatientSafety", "NothingAboutUsWithoutUs"),
        stakeholders={
            "patient": 0.55,
            "other": 0.12,
            "nurse": 0.1,
            "allied_health": 0.08,
            "researcher": 0.06,
            "gp": 0.04,
            "pharmacist": 0.03,
            "journalist": 0.02,
        },
        grammar={
            "topic": (
                "getting a GP appointment",
                "hospital discharge",
                "carers' breaks",
                "waiting for a diagnosis",
                "repeat prescriptions",
                "accessible information",
                "the complaints process",
                "mental health waits",
                "care for long-term conditions",
                "hospital parking charges",
                "respite care",
                "transport to appointments",
                "being listened to",
                "medication shortages",
            ),
            "problem": (
                "carers find out about discharge the same morning",
                "patients repeat their story to every new clinician",
                "letters arrive after the appointment",
                "nobody tells you who to ring",
                "complaints disappear into a black hole",
                "people give up trying to get through by phone",
                "unpaid carers hold the whole system together and get nothing back",
            ),
            "problem_short": (
                "the phone queue",
                "being passed around",
                "surprise discharges",
                "carer burnout",
                "unanswered complaints",
            ),
            "solution": (
                "include carers in discharge planning by default",
                "give every long-term condition patient a named coordinator",
                "publish waiting times in plain English",
                "make hospital parking free for carers",
                "co-design services with patient panels",
                "offer text reminders and a phone route",
                "send every letter in an accessible format on request",
                "answer complaints within {n_small} weeks with a named contact",
                "fund respite so carers can keep going",
            ),
            "claim": (
                "What patients want from {topic} is simple: to be told what happens next.",
                "Nobody designing {topic} seems to have asked a carer.",
                "{Topic} is where the system quietly fails people: {problem}.",
                "It is not about blame. It is that {problem}.",
                "Patients are not asking for miracles on {topic}, just honesty.",
                "Carers in {place} keep saying it: {problem}.",
            ),
            "evidence": (
                "We asked {n} carers in {place}: {pct}% found out about discharge on the day.",
                "{Pct}% of our patient panel had repeated their history to {n_small} or more clinicians.",
                "In {place}, {pct}% of complaints took longer than {weeks} weeks to get a reply.",
                "Our survey of {n} patients: {pct}% could not get through on the phone at 8am.",
                "When {place} added a named coordinator, missed appointments fell {pct}%.",
            ),
            "story": (
                "My {relative} was discharged at 9pm {when} with no care package. I found out from a taxi "
                "driver.",
                "Caring for my {relative} for {n_small} years now. The best support came from one district "
                "nurse who always rang back.",
                "Waited {weeks} weeks for a diagnosis. The consultant apologised, which meant more than she "
                "knew.",
                "Rang the surgery {n_small} times {when}. The receptionist was lovely; the system isn't.",
            ),
            "enemy": (
                "the managers",
                "the board",
                "the people who designed this system",
                "the complaints department",
                "the ministers",
                "people who've never been a carer",
            ),
            "jab": (
                "Another survey nobody will read. Another action plan nobody will follow.",
                "'Lessons will be learned.' They never are.",
                "Patient voice, they call it. Until the patient says something awkward.",
            ),
            "unit": ("carers", "complaints", "discharge letters", "patient stories"),
            "finding": (
                "were never told who to call",
                "waited over a month for a reply",
                "had no carer's assessment",
                "reached us after the appointment date",
            ),
            "intervention": ("a named coordinator", "a carer liaison nurse", "plain-English letters"),
            "metric": ("missed appointments", "complaints", "readmissions", "carer crises"),
            "news": (
                "Patient participation group meeting in {place} on {weekday}.",
                "Carers' hub in {place} extends opening hours.",
                "Survey: how was your experience of {topic}? {url}",
                "New guide on {topic} written with patients.",
            ),
            "group_name": ("patient reps", "carers' groups", "patient advocates"),
            "own_group": ("patients", "carers", "patient reps"),
        },
    ),
    Camp(
        key="mental_health",
        name="Mental-health service campaigners",
        tags=("MentalHealth", "CAMHS", "ParityOfEsteem", "MentalHealthMatters"),
        stakeholders={
            "patient": 0.3,
            "nurse": 0.22,
            "allied_health": 0.1,
            "researcher": 0.1,
            "gp": 0.1,
            "other": 0.15,
            "journalist": 0.03,
        },
        grammar={
            "topic": (
                "CAMHS waiting lists",
                "out-of-area placements",
                "crisis lines",
                "talking therapies",
                "mental health beds",
                "school counselling",
                "eating disorder services",
                "peer support",
                "early intervention",
                "the 18-week target",
            ),
            "problem": (
                "young people wait over a year for a first appointment",
                "patients are sent hundreds of miles for a bed",
                "crisis teams are stretched to breaking point",
                "referrals bounce between services",
            ),
            "problem_short": (
                "the CAMHS wait",
                "out-of-area placements",
                "bed shortages",
                "referral ping-pong",
            ),
            "solution": (
                "fund mental health support teams in every school",
                "build local crisis cafes",
                "let GPs refer straight to talking therapies",
                "pay peer support workers properly",
                "publish waits for every service, not just the ones that look good",
            ),
            "claim": (
                "{Topic} is where parity of esteem goes to die: {problem}.",
                "Nobody would accept this for a broken leg, yet {problem}.",
                "In {place} {problem}.",
            ),
            "evidence": (
                "{Pct}% of the {n} families we support in {place} waited more than {months} months.",
                "Crisis cafe in {place}: {pct}% fewer A&E visits in {months} months.",
            ),
            "story": (
                "My {relative} waited {weeks} weeks for CAMHS. School staff kept her going.",
                "Did {n_small} crisis assessments {when}. Not one local bed.",
            ),
            "enemy": (
                "the commissioners",
                "the ministers",
                "the people who cut the crisis line",
                "the managers",
            ),
            "jab": ("Parity of esteem, my foot.", "Another wellbeing app. That'll fix it."),
            "unit": ("referrals", "families", "crisis calls", "placements"),
            "finding": ("were bounced back", "waited over a year", "ended up in A&E", "were out of area"),
            "intervention": ("a crisis cafe", "school-based support", "a peer support service"),
            "metric": ("A&E attendances", "out-of-area placements", "waiting times", "readmissions"),
            "news": (
                "New figures on {topic} out today.",
                "Crisis cafe opens in {place} on {weekday}.",
            ),
            "group_name": ("mental health campaigners", "peer workers"),
            "own_group": ("mental health staff", "families"),
        },
    ),
)


# ---------------------------------------------------------------------------------------------------------
# Grammar: tone templates shared by all camps (they draw on the camp's vocabulary)
# ---------------------------------------------------------------------------------------------------------

TONE: dict[str, Slot] = {
    "c_opener": (
        "Thread 🧵",
        "Honest reflection after this week:",
        "From the front line in {place}:",
        "A small thing that worked for us:",
        "Some numbers worth sharing.",
        "Long post, sorry.",
        "Constructive suggestion time.",
        "Genuine question, not a gotcha:",
        "Bit of good news for once.",
        "Sharing in case it helps others:",
        "Data, not anecdote:",
        "I've changed my mind on something.",
        "Quick one.",
        "Reflecting on {when}.",
    ),
    "c_solution": (
        "A practical fix: {solution}.",
        "What if we {solution}?",
        "Simple ask: {solution}.",
        "My proposal: {solution}, then review it after {months} months.",
        "We could {solution}; it would cost far less than {cost_alt}.",
        "If I could change one thing, I'd {solution}.",
        "Cheapest win available: {solution}.",
        "Step one is to {solution}. Step two is to ask {staff} what gets in the way.",
        "Suggestion for the ICB: {solution}, and measure it properly.",
        "We tried to {solution} in {place} and it worked better than expected.",
        "Realistic next step: {solution}.",
        "Better than another review: {solution}.",
    ),
    "c_dialogue": (
        "Keen to hear from {other_group} who see it differently.",
        "What am I missing?",
        "Happy to share our protocol if it helps anyone.",
        "Would love to compare notes with {other_group}.",
        "Genuinely open to being wrong on this.",
        "Where has this worked well near you?",
        "If you disagree, I'd really like to understand why.",
        "Can we start from the bits we agree on?",
        "DMs open if anyone wants the spreadsheet.",
        "Anyone in {place} tried something similar?",
        "Not an easy one, and I respect the people arguing the other side.",
        "Would {staff} reading this find that workable?",
        "Tell me where the evidence says otherwise.",
    ),
    "c_respect": (
        "Credit to the team in {place} for this.",
        "Huge respect to the {staff} who made it work.",
        "Thanks to everyone who took part.",
        "The {staff} in {place} deserve far more recognition for this.",
        "Proud of this team.",
    ),
    "c_bridge": (
        "Spent the week talking to {other_group} and we agree on more than this site suggests: everyone "
        "wants {shared_goal}.",
        "The {other_group} have a point about {their_topic}, and we have one about {topic}. Both can be true.",
        "Less shouting, more comparing data: {other_group} and {own_group} both want {shared_goal}.",
        "I don't think {other_group} are the enemy here. Their work on {their_topic} could help with {topic}.",
        "Listening to {other_group} on {their_topic} changed how I think about {topic}.",
        "Joint session with {other_group} in {place} {when}: we found {n_small} things we could do together "
        "on {their_topic}.",
        "What {other_group} say about {their_topic} and what {own_group} say about {topic} are two halves "
        "of the same problem.",
    ),
    "c_short": (
        "Good point, and the {service} data in {place} backs it up.",
        "Agree. We should {solution}.",
        "Thanks for sharing the numbers, really useful.",
        "This is a fair summary of {topic}.",
        "Worth reading before arguing about {topic}.",
        "Simple, evidence-based and cheap: {solution}.",
        "{Topic}: less heat, more data please.",
    ),
    "n_line": (
        "New: {report} on {topic}. {url}",
        "Reminder: {event_kind} on {topic}, {weekday} at {clock}, {venue}.",
        "Reading {report} on {topic} this morning. {url}",
        "Anyone know when the guidance on {topic} is due?",
        "Worth a read on {topic}: {url}",
        "Live now: panel on {topic} with {staff} from {place}.",
        "Quick poll: how long is the wait for {service} where you are?",
        "{News}",
        "{News} {url}",
        "{Event_kind} in {place} on {weekday}, {clock}: {topic}. All welcome.",
        "Slides from {when}'s session on {topic}: {url}",
        "Figures for {place}: {n_big} patients waiting, up from last month.",
        "Podcast episode on {topic} with {staff} from {place}. {url}",
        "{Report} says {topic} is a priority for {place} this winter.",
        "Recruiting: {n_small} posts in {service}, {place}. {url}",
    ),
    "h_line": (
        "{Enemy} are {insult_adj} {insult_noun}.",
        "Another week, another load of lies from {enemy} about {topic}.",
        "Oh brilliant, {enemy} have discovered {topic}. Slow clap.",
        "Shut up about {topic} until you've done a single shift in {service}.",
        "Honestly, who still listens to {enemy}? {Insult_noun}, the lot of them.",
        "Wow, what a genius plan. Said nobody who has ever worked in {service}.",
        "Can't believe {enemy} get paid for this rubbish.",
        "{Enemy} wouldn't know {topic} if it bit them.",
        "Every time {enemy} open their mouths about {topic} it gets worse.",
        "Absolute joke. {Enemy} should be ashamed of themselves.",
        "Sick to death of {enemy} lecturing us on {topic}.",
        "Love how {enemy} suddenly care about {topic} now the cameras are on.",
        "Utter {insult_noun}. Every last one.",
        "Imagine being this {insult_adj} and still getting a platform.",
        "If {enemy} had a brain cell between them we wouldn't be in this mess.",
        "Nobody believes a word {enemy} say any more.",
        "They're not stupid, they're lying. Big difference.",
        "Get in the bin, {enemy}.",
        "Keep clapping, it's all you lot are good for.",
        "{Jab}",
        "{Jab}",
        "The {insult_adj} {insult_noun} running {topic} should be sacked, all of them.",
        "Funny how {enemy} never have to wait for {service}, isn't it?",
        "Spare me the crocodile tears about {topic}. {Enemy} caused this mess.",
    ),
    "h_reply": (
        "You're an idiot.",
        "Shut up. You clearly have no idea how {service} works.",
        "Imagine being this wrong about {their_topic}.",
        "Typical {insult_noun_sing}. Who's paying you?",
        "Oh look, another {insult_noun_sing} who's never set foot in {service}.",
        "Nobody asked you.",
        "Delete your account.",
        "Absolute liar, and you know it.",
        "What a pathetic take.",
        "Cry more.",
        "You are the problem. People like you wrecked {service}.",
        "Spare us the sermon, you {insult_adj} {insult_noun_sing}.",
        "Did you come up with that all by yourself? Genius.",
        "Stick to what you know, which clearly isn't {their_topic}.",
        "Clown behaviour.",
        "Dumbest thing I've read all week, and I've read {enemy}.",
        "Go back to your {lair}, nobody wants you here.",
        "You lot have been wrong about {their_topic} for years and you're still smug about it.",
        "Funny how you never mention {problem_short}. Hypocrite.",
        "Yawn. Same tired nonsense from the same tired {insult_noun}.",
        "Oh do shut up.",
        "Is this satire? Please tell me this is satire.",
        "Of course you'd say that, {insult_noun_sing}.",
        "Zero shame. Zero clue.",
        "Blocked. Life's too short for {insult_noun} like you.",
        "You and {enemy} deserve each other.",
        "Sure, and I'm the chief executive of {service}. Pull the other one.",
    ),
    "c_reply_lead": (
        "Fair point.",
        "Thanks for sharing this.",
        "Really useful, thank you.",
        "I see it a bit differently, but I respect the argument.",
        "Agree on the problem, less sure about the fix.",
        "Good thread.",
        "This matches what we see in {place}.",
        "Respectfully, I'd push back a little.",
        "You're right to raise {their_topic}.",
        "I think we agree more than we disagree here.",
        "Thank you for saying this calmly.",
        "Coming at this from a different angle:",
        "Helpful, and one addition:",
    ),
    "n_reply": (
        "Do you have a link for that?",
        "Which trust is this?",
        "Is this England only?",
        "Interesting, thanks.",
        "When does it start?",
        "Same here in {place}.",
        "Is there a recording?",
        "Has this been published yet?",
        "Is that per practice or per PCN?",
        "Out of interest, what was the sample size?",
        "Noted, thanks.",
        "Following with interest.",
        "Any idea if this applies in Wales too?",
        "What time is it on?",
        "Bookmarking this for later.",
        "Here's the report if anyone wants it: {url}",
        "Is this the same scheme they ran in {place}?",
        "Who is the contact for {service} on this?",
        "Were {staff} involved in the design?",
        "Is the full data out, or just the summary?",
    ),
    "c_quote_lead": (
        "Worth reading.",
        "This is the kind of thread we need more of.",
        "Adding some data to this:",
        "Important point, and here's how we tackled it in {place}:",
        "Agree with this, and I'd go further:",
        "Good to see this. One addition:",
        "This, from outside my usual bubble, is spot on.",
        "Calm, specific and evidence-based. More like this.",
        "Sharing because it gets the detail right.",
    ),
    "n_quote": (
        "Sharing for colleagues in {place}.",
        "FYI.",
        "For anyone following {topic}.",
        "Relevant to this week's discussion on {topic}.",
        "Sharing without comment.",
        "Interesting.",
        "Saving this.",
        "For the {staff} in my timeline.",
        "Context for {when}'s debate.",
    ),
    "h_quote": (
        "Imagine posting this with a straight face.",
        "The absolute state of this.",
        "Look at this {insult_noun_sing}.",
        "Screenshot this for when it all goes wrong.",
        "This is what {enemy} actually believe.",
        "Yeah, good luck with that 🙄",
        "Embarrassing.",
        "Ratio this {insult_noun_sing}.",
        "Who let this {insult_noun_sing} near a keyboard?",
    ),
}

EMOJI = {
    CONSTRUCTIVE: ("💙", "🙏", "📊", "👇", "🙂", "👍", "🩺", "✅"),
    NEUTRAL: ("📢", "👇", "📅", "🔗", "🗓️", "📰"),
    HOSTILE: ("🤡", "🙄", "😡", "🤦", "😂", "🤬", "👏"),
}

# ---------------------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------------------

BIOS: dict[str, tuple[str, ...]] = {
    "gp": (
        "GP partner in {place}",
        "Salaried GP, {place}. Views my own.",
        "Portfolio GP | trainer | {place}",
        "Sessional GP and appraiser in {place}",
        "GP registrar, {place}. Tired but hopeful.",
        "Rural GP in {place}. Continuity matters.",
        "GP, husband, bad cyclist. {place}.",
    ),
    "nurse": (
        "Practice nurse | Queen's Nurse",
        "District nurse in {place}",
        "ICU nurse, {place}. Tea-powered.",
        "Nurse practitioner, primary care, {place}",
        "Mental health nurse. Views my own.",
        "Community matron and district nurse, {place}",
        "Staff nurse on a medical ward in {place}",
    ),
    "pharmacist": (
        "Community pharmacist, {place}",
        "Pharmacist in general practice | {place}",
        "Independent pharmacy owner, {place}",
        "Hospital pharmacist. Antimicrobial nerd.",
    ),
    "allied_health": (
        "Physio",
        "MSK physio in {place}",
        "Paramedic in {place}",
        "Occupational therapist | {place}",
        "Speech and language therapist",
        "Dietitian, {place}",
        "Podiatrist and runner, {place}",
    ),
    "patient": (
        "Carer for my mum; patient rep",
        "Living with type 1 diabetes. Patient voice.",
        "Patient participation group chair, {place}",
        "Parent carer. Campaigner for better services.",
        "Long Covid. Patient advocate.",
        "Kidney patient, {place}. Dialysis three times a week.",
        "Carer, {place}. Tea, dogs and appointments.",
    ),
    "researcher": (
        "Health services researcher @ a university",
        "Health economist. Primary care workforce.",
        "Epidemiologist, {place}. Data nerd.",
        "Digital health researcher | PhD",
        "Senior lecturer in nursing, {place}",
        "Researching carers and health inequalities",
    ),
    "nhs_org": (
        "Official account of {trust} NHS Foundation Trust",
        "Official account of NHS {trust} Integrated Care Board",
    ),
    "industry": (
        "Founder, health-tech startup",
        "Clinical entrepreneur | ex-A&E doctor | building tools for clinicians",
        "Product lead at a digital health company",
        "CMO at a remote-monitoring startup",
        "Health-tech investor. Ex-NHS manager.",
        "Founder, AI triage startup, {place}",
    ),
    "journalist": (
        "Health correspondent",
        "Health and social care reporter, {place}",
        "Freelance health journalist",
    ),
    "politician": (
        "MP for {constituency}",
        "Councillor, {place}. Chair of health scrutiny.",
        "Shadow health spokesperson, {place} council",
    ),
    "other": (
        "Campaigner. Keep our NHS public.",
        "Retired ambulance driver. Trade unionist.",
        "Practice manager in {place}",
        "Receptionist at a busy surgery. Be kind.",
        "Health policy wonk",
        "Volunteer, {place} hospital friends",
        "Union rep, {place} hospitals",
        "Retired midwife, still shouting",
    ),
}

HANDLE_WORDS: dict[str, tuple[str, ...]] = {
    "gp": ("gp", "doc", "drgp", "familydoc", "gppartner"),
    "nurse": ("nurse", "dn", "pracnurse", "rn", "matron"),
    "pharmacist": ("pharma", "chemist", "rxpharm", "pharmacist"),
    "allied_health": ("physio", "para", "ot", "slt", "dietitian"),
    "patient": ("carer", "patientvoice", "t1d", "ppg", "spoonie"),
    "researcher": ("hsr", "epi", "healthecon", "research", "phd"),
    "nhs_org": ("nhs", "trust", "icb"),
    "industry": ("healthtech", "founder", "medtech", "digidoc", "build"),
    "journalist": ("healthdesk", "reporter", "news"),
    "politician": ("mp", "cllr", "councillor"),
    "other": ("campaigner", "unionrep", "pm", "reception", "wonk", "volunteer"),
}

DISPLAY_ROLE: dict[str, tuple[str, ...]] = {
    "gp": ("GP", "Doc", "Family Doctor"),
    "nurse": ("Nurse", "District Nurse", "Practice Nurse"),
    "pharmacist": ("Pharmacist", "Community Pharmacy"),
    "allied_health": ("Physio", "Paramedic", "OT"),
    "patient": ("Carer", "Patient Voice", "PPG Chair"),
    "researcher": ("Health Research", "Epi", "Health Economist"),
    "nhs_org": ("NHS",),
    "industry": ("HealthTech", "Founder", "MedTech"),
    "journalist": ("Health Desk", "Reporter"),
    "politician": ("MP", "Cllr"),
    "other": ("Campaigner", "Union Rep", "Practice Manager"),
}

TRUSTS = (
    "Northvale Hospitals",
    "Eastmere",
    "Westbridge",
    "Kingsmoor",
    "Ashdale Teaching Hospitals",
    "Southcliffe",
    "Riverside Community",
    "Highfold",
)
CONSTITUENCIES = ("Kingsmere East", "Ashworth and Dale", "Fellbrook", "Marlow Vale", "Stonebridge North")

# The national newsdesk accounts everyone mentions; the rest of the newsdesk role is invented.
NATIONAL_ACCOUNTS = (
    ("nhsengland", "NHS England", "Official account of NHS England", "nhs_org"),
    ("bma", "BMA", "Trade union and professional body for doctors in the UK", "other"),
    ("northvale_nhs", "Northvale Hospitals NHS", "Official account of Northvale Hospitals NHS Foundation Trust",
     "nhs_org"),
    ("healthdesk_daily", "Daily Health Desk", "Health correspondent. Tips welcome.", "journalist"),
    ("mp_kingsmere", "MP for Kingsmere East", "MP for Kingsmere East. Member of the health select committee.",
     "politician"),
    ("westbridge_icb", "NHS Westbridge ICB", "Official account of NHS Westbridge Integrated Care Board",
     "nhs_org"),
    ("careweek_news", "Care Week News", "Health and social care reporter, national", "journalist"),
    ("cllr_ashworth", "Cllr Ashworth Health", "Councillor, Ashworth. Chair of health scrutiny.", "politician"),
)  # fmt: skip


@dataclass(eq=False)
class _Account:
    camp: Camp
    role: str
    stakeholder: str
    insider: bool = False
    id: str = ""
    handle: str = ""
    display_name: str = ""
    bio: str = ""
    followers: int = 0
    weight: float = 1.0
    pending: list[str] = field(default_factory=list)
    endorsed_in: int = 0


@dataclass(eq=False)
class _Post:
    seq: int
    author: _Account
    kind: str
    tone: str
    t: int
    target: _Post | None = None
    w_endorse: float = 1.0
    w_reply: float = 1.0
    endorsements: int = 0
    replies: int = 0
    locked: bool = False
    pile_on: bool = False
    id: str = ""
    text: str = ""
    mentions: list[_Account] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


@dataclass
class SampleConversation:
    """A generated week of posts (the JSONL objects, in file order) and its ground truth."""

    posts: list[dict[str, Any]]
    truth: dict[str, Any]


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")


def _expand(rng: random.Random, template: str, grammar: Mapping[str, Slot], depth: int = 0) -> str:
    """Fill every {slot} in a template from the grammar; {Slot} capitalises the filled text."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        cap = False
        if key not in grammar:
            key = key[0].lower() + key[1:]
            cap = True
        slot = grammar[key]
        value = slot(rng) if callable(slot) else rng.choice(slot)
        if depth < 5 and "{" in value:
            value = _expand(rng, value, grammar, depth + 1)
        return value[:1].upper() + value[1:] if cap else value

    return _SLOT.sub(fill, template)


def _pick_weighted(rng: random.Random, options: Mapping[str, float]) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _choose(rng: random.Random, pool: Sequence[_Post], weight: Callable[[_Post], float]) -> _Post | None:
    if not pool:
        return None
    weights = [weight(p) for p in pool]
    if sum(weights) <= 0:
        return None
    return rng.choices(pool, weights=weights)[0]


def _stamp(t: int) -> str:
    return (WEEK_START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _original_time(rng: random.Random) -> int:
    day = rng.choices(range(7), weights=DAY_WEIGHTS)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return min(WEEK_SECONDS, day * 86400 + hour * 3600 + rng.randint(0, 3599))


def _reaction_time(rng: random.Random, base: int, kind: str) -> int:
    """A time after `base`, mostly soon after, following the daily rhythm, within the week."""
    fast, slow_hi, tail_hi = {REPOST: (2400, 12, 72), REPLY: (1800, 8, 48), QUOTE: (3600, 18, 72)}[kind]
    room = WEEK_SECONDS - base
    t = base + min(room, 60)
    for _ in range(8):
        roll = rng.random()
        if roll < 0.7:
            delay = 30 + rng.expovariate(1 / fast)
        elif roll < 0.95:
            delay = rng.uniform(3600, slow_hi * 3600)
        else:
            delay = rng.uniform(slow_hi * 3600, tail_hi * 3600)
        if delay >= room:
            continue
        t = base + int(delay)
        if rng.random() < HOUR_WEIGHTS[(t // 3600) % 24] / _MAX_HOUR_WEIGHT:
            return t
    return max(base + 20, min(t, WEEK_SECONDS))


# ---------------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------------

ROLE_KINDS: dict[str, dict[str, float]] = {
    REGULAR: {REPOST: 0.43, QUOTE: 0.13, REPLY: 0.21, ORIGINAL: 0.23},
    LEADER: {ORIGINAL: 0.55, REPLY: 0.2, QUOTE: 0.1, REPOST: 0.15},
    NEWSDESK: {ORIGINAL: 0.8, REPOST: 0.1, QUOTE: 0.05, REPLY: 0.05},
    HOSTILE_ROLE: {REPLY: 0.68, ORIGINAL: 0.16, QUOTE: 0.1, REPOST: 0.06},
    BRIDGER: {ORIGINAL: 0.45, REPLY: 0.4, QUOTE: 0.1, REPOST: 0.05},
}
# Constructive regulars who only engage inside their camp: more own posts and replies, fewer reposts.
INSIDER_KINDS = {ORIGINAL: 0.34, REPLY: 0.3, QUOTE: 0.13, REPOST: 0.23}
ROLE_VOLUME = {REGULAR: 1.0, LEADER: 5.0, NEWSDESK: 3.0, HOSTILE_ROLE: 7.5, BRIDGER: 1.0}
ROLE_MIN_POSTS = {REGULAR: 1, LEADER: 8, NEWSDESK: 4, HOSTILE_ROLE: 16, BRIDGER: 6}
ROLE_PULL = {REGULAR: 1.0, LEADER: 10.0, NEWSDESK: 5.0, HOSTILE_ROLE: 0.6, BRIDGER: 3.0}
TONE_PULL = {CONSTRUCTIVE: 1.6, NEUTRAL: 1.0, HOSTILE: 0.35}
KIND_PULL = {ORIGINAL: 1.0, QUOTE: 0.6, REPLY: 0.25, REPOST: 0.0}


class _Generator:
    def __init__(self, seed: int, n_accounts: int, n_posts: int, n_bridgers: int, n_camps: int) -> None:
        if not 2 <= n_camps <= len(CAMPS):
            raise ValueError(f"n_camps must be between 2 and {len(CAMPS)}")
        if n_bridgers < 1:
            raise ValueError("n_bridgers must be at least 1")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_accounts = n_accounts
        self.n_posts = n_posts
        self.n_bridgers = n_bridgers
        self.camps = CAMPS[:n_camps]
        self.accounts: list[_Account] = []
        self.posts: list[_Post] = []
        self.by_camp: dict[str, list[_Post]] = {c.key: [] for c in self.camps}
        self.bridger_posts: dict[str, list[_Post]] = {c.key: [] for c in self.camps}
        self.newsdesk_posts: dict[str, list[_Post]] = {c.key: [] for c in self.camps}
        self.endorsed_pairs: set[tuple[str, int]] = set()
        self.pile_ons: list[tuple[_Post, list[_Post]]] = []
        self.fallbacks = 0

    # -- accounts ---------------------------------------------------------------------------------------

    def make_accounts(self) -> None:
        rng, n, camps = self.rng, self.n_accounts, self.camps
        n_hostile = max(3, round(0.01 * n))
        n_newsdesk = max(len(camps), round(0.02 * n))
        leaders_per_camp = max(2, round(0.028 * n / len(camps)))
        fixed = n_hostile + n_newsdesk + leaders_per_camp * len(camps) + self.n_bridgers
        if n - fixed < 6 * len(camps):
            raise ValueError(f"n_accounts={n} is too small: need at least {fixed + 6 * len(camps)}")
        accounts: list[_Account] = []
        for i in range(n_newsdesk):
            handle, display, bio, stakeholder = NATIONAL_ACCOUNTS[i % len(NATIONAL_ACCOUNTS)]
            suffix = "" if i < len(NATIONAL_ACCOUNTS) else str(i // len(NATIONAL_ACCOUNTS) + 1)
            acct = _Account(camps[i % len(camps)], NEWSDESK, stakeholder)
            acct.handle, acct.display_name, acct.bio = handle + suffix, display, bio
            accounts.append(acct)
        for camp in camps:
            for _ in range(leaders_per_camp):
                accounts.append(_Account(camp, LEADER, _pick_weighted(rng, camp.stakeholders)))
        bridger_stakeholders = ("researcher", "nurse", "pharmacist", "patient", "gp", "allied_health")
        for i in range(self.n_bridgers):
            accounts.append(_Account(camps[i % len(camps)], BRIDGER, bridger_stakeholders[i % 6]))
        for i in range(n_hostile):
            camp = camps[(i + 1) % len(camps)]
            accounts.append(_Account(camp, HOSTILE_ROLE, _pick_weighted(rng, camp.stakeholders)))
        camp_sizes = [1.25, 1.05, 0.95, 0.85, 0.8][: len(camps)]
        for i in range(n - len(accounts)):
            camp = camps[i % len(camps)] if i < 6 * len(camps) else rng.choices(camps, weights=camp_sizes)[0]
            stakeholder = _pick_weighted(rng, camp.stakeholders)
            accounts.append(_Account(camp, REGULAR, stakeholder, insider=rng.random() < 0.2))
        rng.shuffle(accounts)
        used: set[str] = {a.handle for a in accounts if a.handle}
        for i, acct in enumerate(accounts, start=1):
            acct.id = f"a{i}"
            if acct.role != NEWSDESK:
                self._describe(acct, used)
            acct.followers = self._followers(acct)
            volume = ROLE_VOLUME[acct.role]
            if acct.role == REGULAR:
                volume = min(6.0, rng.lognormvariate(0.0, 0.9)) * (1.6 if acct.insider else 1.0)
            acct.weight = volume
        self.accounts = accounts

    def _describe(self, acct: _Account, used: set[str]) -> None:
        rng = self.rng
        place = rng.choice(PLACES)
        grammar: dict[str, Slot] = {
            "place": (place,),
            "trust": TRUSTS,
            "constituency": CONSTITUENCIES,
        }
        acct.bio = _expand(rng, rng.choice(BIOS[acct.stakeholder]), grammar)
        if rng.random() < 0.35 and "Views my own" not in acct.bio:
            if not acct.bio.endswith("."):
                acct.bio += "."
            acct.bio += rng.choice(
                (" Views my own.", " NHS lifer.", " He/him.", " She/her.", " Tea first.", " Parkrun.")
            )
        place_slug = place.lower().replace(" ", "").replace("&", "")
        while True:
            word = rng.choice(HANDLE_WORDS[acct.stakeholder])
            style = rng.random()
            if style < 0.4:
                handle = f"{word}_{place_slug}{rng.randint(1, 99)}"
            elif style < 0.7:
                handle = f"{place_slug}{word}{rng.randint(1, 999)}"
            else:
                handle = f"{word}{rng.choice(('', '_'))}{place_slug[:5]}{rng.randint(1, 9999)}"
            if handle not in used:
                used.add(handle)
                break
        acct.handle = handle
        role_word = rng.choice(DISPLAY_ROLE[acct.stakeholder])
        acct.display_name = rng.choice(
            (
                f"{place} {role_word}",
                f"{role_word} in {place}",
                f"{role_word} ({place})",
                f"{role_word} {place}",
            )
        )

    def _followers(self, acct: _Account) -> int:
        rng = self.rng
        mu, sigma = {
            REGULAR: (5.4, 1.0),
            LEADER: (9.9, 0.45),
            NEWSDESK: (10.8, 0.8),
            HOSTILE_ROLE: (6.4, 0.5),
            BRIDGER: (7.0, 0.3),
        }[acct.role]
        return max(3, int(math.exp(rng.gauss(mu, sigma))))

    # -- post plan ----------------------------------------------------------------------------------------

    def plan_kinds(self) -> None:
        rng = self.rng
        counts = {a.id: ROLE_MIN_POSTS[a.role] for a in self.accounts}
        extra = self.n_posts - sum(counts.values())
        if extra < 0:
            raise ValueError(f"n_posts={self.n_posts} is too small for {self.n_accounts} accounts")
        for acct in rng.choices(self.accounts, weights=[a.weight for a in self.accounts], k=extra):
            counts[acct.id] += 1
        for acct in self.accounts:
            count = counts[acct.id]
            mix = INSIDER_KINDS if acct.insider else ROLE_KINDS[acct.role]
            kinds = [_pick_weighted(rng, mix) for _ in range(count)]
            minimum_originals = {LEADER: 3, BRIDGER: 3, NEWSDESK: 2}.get(acct.role, 0)
            for i in range(min(minimum_originals, count)):
                kinds[i] = ORIGINAL
            if acct.role == HOSTILE_ROLE:
                for i in range(min(6, count)):
                    kinds[i] = REPLY
            if acct.role == REGULAR and count == 1:
                kinds = [REPOST if rng.random() < 0.75 else QUOTE]
            rng.shuffle(kinds)
            acct.pending = kinds

    def _original_tone(self, acct: _Account) -> str:
        if acct.role == LEADER:
            mix = {CONSTRUCTIVE: 0.4, NEUTRAL: 0.4, HOSTILE: 0.2}
        elif acct.role == NEWSDESK:
            mix = {NEUTRAL: 0.9, CONSTRUCTIVE: 0.1}
        elif acct.role == HOSTILE_ROLE:
            mix = {HOSTILE: 0.92, NEUTRAL: 0.08}
        elif acct.role == BRIDGER:
            mix = {CONSTRUCTIVE: 0.9, NEUTRAL: 0.1}
        elif acct.insider:
            mix = {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15}
        else:
            mix = {CONSTRUCTIVE: 0.25, NEUTRAL: 0.5, HOSTILE: 0.25}
        return _pick_weighted(self.rng, mix)

    def _add(self, post: _Post) -> _Post:
        post.w_endorse = ROLE_PULL[post.author.role] * TONE_PULL[post.tone] * KIND_PULL[post.kind]
        pull = ROLE_PULL[post.author.role]
        post.w_reply = (math.sqrt(pull) if pull >= 1 else 1.0) * {ORIGINAL: 1.0, QUOTE: 0.8, REPLY: 0.5}.get(
            post.kind, 0.0
        )
        self.posts.append(post)
        if post.kind != REPOST and post.t < WEEK_SECONDS - 900:
            camp = post.author.camp.key
            self.by_camp[camp].append(post)
            if post.author.role == BRIDGER and post.kind == ORIGINAL:
                self.bridger_posts[camp].append(post)
            if post.author.role == NEWSDESK and post.kind == ORIGINAL:
                self.newsdesk_posts[camp].append(post)
        return post

    def make_originals(self) -> None:
        for acct in self.accounts:
            remaining = []
            for kind in acct.pending:
                if kind == ORIGINAL:
                    self._add(
                        _Post(
                            len(self.posts),
                            acct,
                            ORIGINAL,
                            self._original_tone(acct),
                            _original_time(self.rng),
                        )
                    )
                else:
                    remaining.append(kind)
            acct.pending = remaining

    def _other_camps(self, acct: _Account) -> list[str]:
        return [c.key for c in self.camps if c.key != acct.camp.key]

    def _react(self, acct: _Account, kind: str, target: _Post, tone: str, *, locked: bool = False) -> _Post:
        if kind == REPOST:
            tone = target.tone
        t = _reaction_time(self.rng, target.t, kind)
        post = _Post(len(self.posts), acct, kind, tone, t, locked=locked)
        self._add(post)
        post.target = target
        if kind in (REPOST, QUOTE):
            target.endorsements += 1
            target.author.endorsed_in += 1
        else:
            target.replies += 1
        return post

    def _take(self, acct: _Account, preferred: Sequence[str]) -> str | None:
        for kind in preferred:
            if kind in acct.pending:
                acct.pending.remove(kind)
                return kind
        return None

    def make_pile_ons(self) -> None:
        rng = self.rng
        hostiles = [a for a in self.accounts if a.role == HOSTILE_ROLE]
        regulars = [a for a in self.accounts if a.role == REGULAR and not a.insider]
        n_pile_ons = max(3, self.n_posts // 200)
        for _ in range(n_pile_ons):
            camp = rng.choice(self.camps).key
            attackers_h = [a for a in hostiles if a.camp.key != camp and REPLY in a.pending]
            if not attackers_h:
                continue
            pool = [
                p
                for p in self.by_camp[camp]
                if p.kind == ORIGINAL
                and p.author.role in (LEADER, REGULAR, BRIDGER)
                and p.t < WEEK_SECONDS - 8000
            ]
            target = _choose(rng, pool, lambda p: p.w_reply * (3.0 if p.author.role == LEADER else 1.0))
            if target is None:
                continue
            attackers = rng.sample(attackers_h, min(len(attackers_h), rng.randint(2, 3)))
            others = [
                a
                for a in regulars
                if a.camp.key != camp and len(a.pending) > 1 and (REPLY in a.pending or QUOTE in a.pending)
            ]
            attackers += rng.sample(others, min(len(others), rng.randint(2, 3)))
            first = target.t + rng.randint(180, 2400)
            replies: list[_Post] = []
            for attacker in attackers:
                if self._take(attacker, (REPLY, QUOTE)) is None:
                    continue
                t = min(WEEK_SECONDS, first + rng.randint(0, 3300))
                post = self._add(
                    _Post(len(self.posts), attacker, REPLY, HOSTILE, t, locked=True, pile_on=True)
                )
                post.target = target
                target.replies += 1
                replies.append(post)
            self.pile_ons.append((target, replies))

    def make_bridger_coverage(self) -> None:
        """Every bridger gets constructive endorsements or replies from members of every other camp."""
        rng = self.rng
        for bridger in [a for a in self.accounts if a.role == BRIDGER]:
            own = [p for p in self.bridger_posts[bridger.camp.key] if p.author is bridger]
            if not own:
                continue
            for camp_key in self._other_camps(bridger):
                members = [
                    a
                    for a in self.accounts
                    if a.camp.key == camp_key and a.role == REGULAR and not a.insider and len(a.pending) > 1
                ]
                if not members:
                    continue
                member = rng.choice(members)
                order = (REPOST, QUOTE, REPLY) if rng.random() < 0.6 else (REPLY, QUOTE, REPOST)
                kind = self._take(member, order)
                if kind is None:
                    continue
                target = rng.choice(own)
                tone = CONSTRUCTIVE if kind != REPOST or target.tone != NEUTRAL else NEUTRAL
                self._react(member, kind, target, tone, locked=True)

    def _target_for(self, acct: _Account, kind: str) -> tuple[_Post | None, str]:
        rng = self.rng
        role = acct.role
        own = acct.camp.key
        others = self._other_camps(acct)

        def pref(p: _Post) -> float:
            if p.author is acct:
                return 0.0
            boost = 3.0 if p.author.endorsed_in == 0 else 1.0
            return p.w_endorse * (1.0 + p.endorsements) * boost

        def reply_pref(p: _Post) -> float:
            return 0.0 if p.author is acct else p.w_reply * (1.0 + 0.5 * p.replies)

        if kind in (REPOST, QUOTE):
            p_cross = {REGULAR: 0.0 if acct.insider else 0.045, LEADER: 0.03, NEWSDESK: 0.15}.get(role, 0.5)
            if role == HOSTILE_ROLE:
                p_cross = 0.0 if kind == REPOST else 0.7
            if rng.random() < p_cross:
                camp = rng.choice(others)
                if role == HOSTILE_ROLE:
                    target = _choose(rng, self.by_camp[camp], reply_pref)
                    return target, HOSTILE if rng.random() < 0.95 else NEUTRAL
                pool = self.bridger_posts[camp] if rng.random() < 0.85 else self.newsdesk_posts[camp]
                target = _choose(rng, pool, pref) or _choose(rng, self.bridger_posts[camp], pref)
                if target is not None:
                    tone = NEUTRAL if target.author.role == NEWSDESK else CONSTRUCTIVE
                    if rng.random() < 0.15:
                        tone = NEUTRAL
                    return target, tone
            if role == HOSTILE_ROLE:

                def hostile_pref(p: _Post) -> float:
                    return pref(p) * (30.0 if p.tone == HOSTILE else 1.0)

                return _choose(
                    rng, self.by_camp[own], hostile_pref
                ), HOSTILE if rng.random() < 0.9 else NEUTRAL
            target = _choose(rng, self.by_camp[own], pref)
            if acct.insider or role == BRIDGER:
                tone_mix = {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15}
            elif role == NEWSDESK:
                tone_mix = {NEUTRAL: 0.9, CONSTRUCTIVE: 0.1}
            else:
                tone_mix = {CONSTRUCTIVE: 0.4, NEUTRAL: 0.45, HOSTILE: 0.15}
            return target, _pick_weighted(rng, tone_mix)

        # replies
        p_cross = {REGULAR: 0.0 if acct.insider else 0.33, LEADER: 0.3, NEWSDESK: 0.2, HOSTILE_ROLE: 0.8}.get(
            role, 0.95
        )
        if rng.random() < p_cross:
            camp = rng.choice(others)
            if role == BRIDGER:
                target = _choose(rng, self.by_camp[camp], reply_pref)
                return target, CONSTRUCTIVE if rng.random() < 0.92 else NEUTRAL
            if role == HOSTILE_ROLE:

                def leader_pref(p: _Post) -> float:
                    return reply_pref(p) * (2.0 if p.author.role == LEADER else 1.0)

                target = _choose(rng, self.by_camp[camp], leader_pref)
                return target, HOSTILE if rng.random() < 0.96 else NEUTRAL
            if role == REGULAR and rng.random() < 0.25 and self.bridger_posts[camp]:
                target = _choose(rng, self.bridger_posts[camp], reply_pref)
                return target, _pick_weighted(rng, {CONSTRUCTIVE: 0.7, NEUTRAL: 0.25, HOSTILE: 0.05})
            target = _choose(rng, self.by_camp[camp], reply_pref)
            if role == NEWSDESK:
                return target, NEUTRAL
            return target, _pick_weighted(rng, {HOSTILE: 0.5, NEUTRAL: 0.3, CONSTRUCTIVE: 0.2})
        target = _choose(rng, self.by_camp[own], reply_pref)
        if role == HOSTILE_ROLE:
            tone_mix = {HOSTILE: 0.85, NEUTRAL: 0.15}
        elif role == BRIDGER or acct.insider:
            tone_mix = {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15}
        elif role == NEWSDESK:
            tone_mix = {NEUTRAL: 0.85, CONSTRUCTIVE: 0.15}
        elif role == LEADER:
            tone_mix = {CONSTRUCTIVE: 0.45, NEUTRAL: 0.5, HOSTILE: 0.05}
        else:
            tone_mix = {CONSTRUCTIVE: 0.35, NEUTRAL: 0.52, HOSTILE: 0.13}
        return target, _pick_weighted(rng, tone_mix)

    def make_reactions(self) -> None:
        rng = self.rng
        slots = [(acct, kind) for acct in self.accounts for kind in acct.pending]
        for acct in self.accounts:
            acct.pending = []
        rng.shuffle(slots)
        for acct, kind in slots:
            target: _Post | None = None
            tone = NEUTRAL
            for _ in range(4):
                target, tone = self._target_for(acct, kind)
                if target is None or target.author is acct:
                    target = None
                    continue
                if kind in (REPOST, QUOTE) and (acct.id, target.seq) in self.endorsed_pairs:
                    target = None
                    continue
                break
            if target is None:
                self.fallbacks += 1
                self._add(
                    _Post(len(self.posts), acct, ORIGINAL, self._original_tone(acct), _original_time(rng))
                )
                continue
            if kind in (REPOST, QUOTE):
                self.endorsed_pairs.add((acct.id, target.seq))
            self._react(acct, kind, target, tone)

    def fix_coverage(self) -> None:
        """Make sure every account has at least one repost or quote edge, in or out."""
        rng = self.rng
        covered: set[str] = set()
        for post in self.posts:
            if (
                post.kind in (REPOST, QUOTE)
                and post.target is not None
                and post.target.author is not post.author
            ):
                covered.update((post.author.id, post.target.author.id))
        for acct in self.accounts:
            if acct.id in covered:
                continue
            own = [p for p in self.posts if p.author is acct]
            replies = [p for p in own if p.kind == REPLY and not p.locked and p.target is not None]
            if replies:
                replies.sort(key=lambda p: (p.target is None or p.target.author.camp is not acct.camp, p.seq))
                post = replies[0]
                assert post.target is not None
                post.kind = QUOTE
                post.target.replies -= 1
                post.target.endorsements += 1
                post.target.author.endorsed_in += 1
                covered.update((acct.id, post.target.author.id))
                continue
            originals = [p for p in own if p.kind != REPOST and p.t < WEEK_SECONDS - 900]
            if not originals:
                continue
            original = min(originals, key=lambda p: (p.kind != ORIGINAL, p.t))
            donors = [
                p
                for p in self.posts
                if p.kind == REPOST
                and not p.locked
                and p.author is not acct
                and p.author.camp is acct.camp
                and p.target is not None
                and p.target.author.endorsed_in >= 2
            ]
            if not donors:
                continue
            donor = rng.choice(donors)
            assert donor.target is not None
            donor.target.endorsements -= 1
            donor.target.author.endorsed_in -= 1
            donor.target = original
            donor.tone = original.tone
            donor.t = _reaction_time(rng, original.t, REPOST)
            donor.locked = True
            original.endorsements += 1
            acct.endorsed_in += 1
            self.endorsed_pairs.add((donor.author.id, original.seq))
            covered.update((acct.id, donor.author.id))

    # -- text -----------------------------------------------------------------------------------------------

    def _grammar(self, post: _Post) -> ChainMap[str, Slot]:
        rng = self.rng
        camp = post.author.camp
        others = [c for c in self.camps if c is not camp]
        other = rng.choice(others)
        target_camp = post.target.author.camp if post.target is not None else other
        extra: dict[str, Slot] = {
            "other_group": other.grammar["group_name"],
            "their_topic": target_camp.grammar["topic"],
        }
        return ChainMap(extra, camp.grammar, TONE, SHARED)

    def _render(self, post: _Post) -> str:
        rng = self.rng
        g = self._grammar(post)

        def say(slot: str) -> str:
            return _expand(rng, "{" + slot + "}", g)

        def say_distinct(slot: str, n: int) -> list[str]:
            templates = g[slot]
            assert not callable(templates)
            return [_expand(rng, t, g) for t in rng.sample(list(templates), min(n, len(templates)))]

        def constructive_parts(n_parts: int, bridging: float) -> list[str]:
            core = rng.choices(("claim", "evidence", "story"), weights=(0.4, 0.35, 0.25))[0]
            parts = [say(core)]
            extras = ["evidence", "c_solution", "c_solution", "c_dialogue", "c_respect", "story", "claim"]
            if rng.random() < bridging:
                parts.append(say("c_bridge"))
            while len(parts) < n_parts:
                choice = rng.choice(extras)
                if choice == core:
                    continue
                parts.append(say(choice))
                extras.remove(choice)
            if len(parts) > 2 and rng.random() < 0.5:
                middle = parts[1:-1]
                rng.shuffle(middle)
                parts = [parts[0], *middle, parts[-1]]
            return parts

        tone, kind = post.tone, post.kind
        bridging = 0.5 if post.author.role == BRIDGER else 0.03
        if kind == ORIGINAL:
            if tone == CONSTRUCTIVE:
                n_parts = rng.choices((1, 2, 3, 4), weights=(0.28, 0.37, 0.25, 0.1))[0]
                if n_parts == 1 and rng.random() < 0.45:
                    sentences = [say("c_short")]
                else:
                    sentences = constructive_parts(n_parts, bridging)
                    if rng.random() < 0.3:
                        sentences.insert(0, say("c_opener"))
            elif tone == NEUTRAL:
                sentences = [say("n_line")]
                if rng.random() < 0.45:
                    sentences.append(say(rng.choice(("n_line", "claim", "news", "n_reply"))))
            else:
                n_lines = rng.choices((1, 2, 3, 4, 5, 6), weights=(0.18, 0.27, 0.23, 0.16, 0.1, 0.06))[0]
                sentences = say_distinct("h_line", n_lines)
        elif kind == REPLY:
            if tone == CONSTRUCTIVE:
                sentences = [say("c_reply_lead")] if rng.random() < 0.6 else []
                n_parts = rng.choices((1, 2, 3), weights=(0.55, 0.35, 0.1))[0]
                pool = ["evidence", "c_solution", "c_dialogue", "story", "c_short", "claim"]
                sentences += [say(s) for s in rng.sample(pool, n_parts)]
                if post.author.role == BRIDGER and rng.random() < 0.35:
                    sentences.insert(1 if sentences else 0, say("c_bridge"))
            elif tone == NEUTRAL:
                sentences = [say("n_reply")]
                if rng.random() < 0.4:
                    sentences.append(say(rng.choice(("n_reply", "news", "n_line"))))
            else:
                n_lines = rng.choices((1, 2, 3, 4), weights=(0.3, 0.3, 0.25, 0.15))[0]
                if post.pile_on:
                    n_lines = min(n_lines, 2)
                sentences = say_distinct("h_reply", n_lines)
                if rng.random() < 0.3:
                    sentences.insert(rng.randint(0, len(sentences)), say("h_line"))
        else:  # quote
            if tone == CONSTRUCTIVE:
                sentences = [
                    say("c_quote_lead"),
                    say(rng.choice(("evidence", "c_solution", "c_short", "story"))),
                ]
                if rng.random() < 0.3:
                    sentences.append(
                        say(rng.choice(("c_dialogue", "c_bridge" if bridging > 0.1 else "c_respect")))
                    )
            elif tone == NEUTRAL:
                sentences = [say("n_quote")]
                if rng.random() < 0.3:
                    sentences.append(say("url"))
            else:
                sentences = [say("h_quote")]
                if rng.random() < 0.45:
                    sentences.append(say(rng.choice(("h_reply", "h_line"))))

        sentences = list(dict.fromkeys(s for s in sentences if s))  # no sentence twice in one post
        if tone == HOSTILE and len(sentences) > 1 and rng.random() < 0.1:
            i = rng.randrange(len(sentences))
            sentences[i] = sentences[i].upper()
        text = " ".join(sentences)
        if tone == HOSTILE and rng.random() < 0.2:
            text = text.rstrip(".") + "!"
        if rng.random() < 0.06:
            text = text.lower()
        if "https://" not in text and rng.random() < {CONSTRUCTIVE: 0.14, NEUTRAL: 0.12, HOSTILE: 0.03}[tone]:
            text += " " + _url(rng)
        if rng.random() < {CONSTRUCTIVE: 0.2, NEUTRAL: 0.15, HOSTILE: 0.35}[tone]:
            emoji = EMOJI[tone]
            text += " " + "".join(rng.sample(emoji, rng.choice((1, 1, 1, 2))))
        return text

    def _choose_mentions(self, post: _Post) -> list[_Account]:
        rng = self.rng
        author = post.author
        orgs = [a for a in self.accounts if a.role == NEWSDESK]
        figures = [a for a in self.accounts if a.camp is author.camp and a.role in (LEADER, NEWSDESK)]
        chosen: list[_Account] = []
        for _ in range(1 if rng.random() < 0.75 else 2):
            roll = rng.random()
            if post.kind == REPLY and post.target is not None and roll < 0.5:
                candidate = post.target.author
            elif roll < 0.75 and not author.insider:
                candidate = rng.choice(orgs[:2] if rng.random() < 0.6 else orgs)
            else:
                candidate = rng.choice(figures)
            if candidate is not author and candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def _choose_tags(self, post: _Post) -> list[str]:
        rng = self.rng
        p_tagged = {ORIGINAL: 0.85, QUOTE: 0.5, REPLY: 0.15}[post.kind]
        if rng.random() >= p_tagged:
            return []
        camp = post.author.camp
        tags: list[str] = []
        if rng.random() < 0.55:
            tags.append("NHS")
        n_camp = rng.choices((0, 1, 2), weights=(0.1 if tags else 0.0, 0.6, 0.3))[0]
        weights = [1.0 / (i + 1) for i in range(len(camp.tags))]
        for _ in range(n_camp):
            tag = rng.choices(camp.tags, weights=weights)[0]
            if tag not in tags:
                tags.append(tag)
        if post.author.role == BRIDGER and rng.random() < 0.35:
            other = rng.choice([c for c in self.camps if c is not camp])
            tags.append(other.tags[0])
        rng.shuffle(tags)
        return tags

    def render_all(self) -> None:
        rng = self.rng
        self.posts.sort(key=lambda p: (p.t, p.seq))
        for i, post in enumerate(self.posts):
            post.id = str(1001 + i)
        for post in self.posts:
            if post.kind == REPOST:
                assert post.target is not None and post.target.text
                post.text, post.mentions, post.hashtags = (
                    post.target.text,
                    post.target.mentions,
                    post.target.hashtags,
                )
                continue
            text = self._render(post)
            if rng.random() < 0.15:
                post.mentions = self._choose_mentions(post)
            handles = [f"@{m.handle}" for m in post.mentions]
            if handles:
                roll = rng.random()
                if roll < 0.45 or (post.kind == REPLY and roll < 0.75):
                    text = " ".join(handles) + " " + text
                elif roll < 0.8:
                    text = text + " cc " + " ".join(handles)
                else:
                    text = text + " " + " ".join(handles)
            post.hashtags = self._choose_tags(post)
            if post.hashtags:
                hashes = [f"#{t}" for t in post.hashtags]
                if rng.random() < 0.15:
                    text = f"{hashes[0]}: {text}" + "".join(f" {h}" for h in hashes[1:])
                else:
                    text = text + " " + " ".join(hashes)
            post.text = text

    # -- output ----------------------------------------------------------------------------------------------

    def build(self) -> SampleConversation:
        self.make_accounts()
        self.plan_kinds()
        self.make_originals()
        self.make_pile_ons()
        self.make_bridger_coverage()
        self.make_reactions()
        self.fix_coverage()
        self.render_all()
        posts = [self._as_json(p) for p in self.posts]
        by_number = sorted(self.accounts, key=lambda a: int(a.id[1:]))
        truth: dict[str, Any] = {
            "seed": self.seed,
            "camps": {c.key: c.name for c in self.camps},
            "accounts": {
                a.id: {"camp": a.camp.key, "role": a.role, "stakeholder": a.stakeholder} for a in by_number
            },
            "bridgers": [a.id for a in by_number if a.role == BRIDGER],
            "hostile_accounts": [a.id for a in by_number if a.role == HOSTILE_ROLE],
            "posts": {p.id: p.tone for p in self.posts},
            "pile_ons": [
                {"target": target.id, "replies": sorted((r.id for r in replies), key=int)}
                for target, replies in sorted(self.pile_ons, key=lambda pr: int(pr[0].id))
                if len(replies) >= 3
            ],
        }
        return SampleConversation(posts=posts, truth=truth)

    @staticmethod
    def _as_json(post: _Post) -> dict[str, Any]:
        author = post.author
        obj: dict[str, Any] = {
            "id": post.id,
            "created_at": _stamp(post.t),
            "text": post.text,
            "author": {
                "id": author.id,
                "handle": author.handle,
                "display_name": author.display_name,
                "bio": author.bio,
                "followers": author.followers,
            },
            "platform": PLATFORM,
            "url": f"https://social.example/@{author.handle}/{post.id}",
            "lang": "en",
        }
        if post.target is not None:
            key = {REPLY: "reply_to", QUOTE: "quote_of", REPOST: "repost_of"}[post.kind]
            obj[key] = {"id": post.target.id, "author_id": post.target.author.id}
        if post.mentions:
            obj["mentions"] = [{"id": m.id, "handle": m.handle} for m in post.mentions]
        if post.hashtags:
            obj["hashtags"] = list(post.hashtags)
        return obj


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def generate_conversation(
    seed: int = 2026,
    n_accounts: int = 420,
    n_posts: int = 3200,
    n_bridgers: int = 5,
    n_camps: int = 4,
) -> SampleConversation:
    """A seeded week (ISO 2026-W47) of posts on UK healthcare hashtags, with ground truth.

    Exactly `n_posts` posts by exactly `n_accounts` distinct authors, in chronological order; the same
    arguments always give the same output.
    """
    return _Generator(seed, n_accounts, n_posts, n_bridgers, n_camps).build()


def dumps_jsonl(posts: Sequence[Mapping[str, Any]]) -> str:
    """The posts as commonground JSONL text, one object per line (the exact bytes `write_sample` writes)."""
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)


def dumps_truth(truth: Mapping[str, Any]) -> str:
    """The ground truth as the exact text `write_sample` writes to truth.json."""
    return json.dumps(truth, ensure_ascii=False, indent=1) + "\n"


def write_sample(out_dir: Path, **kwargs: int) -> tuple[Path, Path]:
    """Generate a conversation and write conversation.jsonl and truth.json into `out_dir`."""
    conversation = generate_conversation(**kwargs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    posts_path = out_dir / "conversation.jsonl"
    truth_path = out_dir / "truth.json"
    posts_path.write_text(dumps_jsonl(conversation.posts), encoding="utf-8", newline="\n")
    truth_path.write_text(dumps_truth(conversation.truth), encoding="utf-8", newline="\n")
    return posts_path, truth_path


def summarise(conversation: SampleConversation) -> dict[str, Any]:
    """Headline statistics of a generated conversation (kinds, camp endorsement, text variety)."""
    posts, truth = conversation.posts, conversation.truth
    accounts = truth["accounts"]
    kinds: Counter[str] = Counter()
    inside = total = 0
    for p in posts:
        kind = next((k for k in ("repost_of", "quote_of", "reply_to") if k in p), "original")
        kinds[kind] += 1
        if kind in ("repost_of", "quote_of"):
            src = accounts[p["author"]["id"]]
            if src["role"] == REGULAR:
                total += 1
                inside += src["camp"] == accounts[p[kind]["author_id"]]["camp"]
    originals = [p["text"] for p in posts if "repost_of" not in p]
    return {
        "posts": len(posts),
        "accounts": len({p["author"]["id"] for p in posts}),
        "kinds": dict(sorted(kinds.items())),
        "tones": dict(sorted(Counter(truth["posts"].values()).items())),
        "within_camp_endorsement_share": round(inside / total, 3) if total else None,
        "unique_original_text_share": round(len(set(originals)) / len(originals), 3) if originals else None,
        "mention_share": round(sum(1 for p in posts if p.get("mentions")) / len(posts), 3),
        "bytes": len(dumps_jsonl(posts).encode("utf-8")),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.sample_conversation --out data/sample [--seed N --accounts N --posts N]`."""
    parser = argparse.ArgumentParser(prog="python -m flows.sample_conversation", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--accounts", type=int, default=420)
    parser.add_argument("--posts", type=int, default=3200)
    parser.add_argument("--bridgers", type=int, default=5)
    parser.add_argument("--camps", type=int, default=4)
    args = parser.parse_args(argv)
    kwargs = {
        "seed": args.seed,
        "n_accounts": args.accounts,
        "n_posts": args.posts,
        "n_bridgers": args.bridgers,
        "n_camps": args.camps,
    }
    try:
        posts_path, truth_path = write_sample(args.out, **kwargs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conversation = SampleConversation(
        posts=[json.loads(line) for line in posts_path.read_text(encoding="utf-8").splitlines()],
        truth=json.loads(truth_path.read_text(encoding="utf-8")),
    )
    print(f"wrote {posts_path} and {truth_path}")
    print(json.dumps(summarise(conversation), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
