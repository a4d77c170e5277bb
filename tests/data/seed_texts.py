"""Texts of the two seed units, copied from the published text (/work/shared/seeds) so the tests never read it.

Each string is one paragraph or one line of the seed, exactly as published (typos and odd punctuation included);
only the bullet markers of the NZQA legislation list are dropped. Compare after normalising white space.
"""

# --- NZQA: Build and maintain effective and respectful relationships in case management ---

NZ_TITLE = "Build and maintain effective and respectful relationships in case management"
NZ_LEVEL = 5
NZ_CREDITS = 24
NZ_CLASSIFICATION = "Public Sector Services > Case Management"
NZ_AVAILABLE_GRADE = "Achieved"

# Purpose paragraphs; the two list entries start with the seed's own "–" marker.
NZ_PURPOSE = (
    "This unit standard is intended for people who work in case management roles in the public or private sectors.",
    "People credited with this unit standard are able to:",
    "– interact with clients, using a client-centred approach, to gather case information and develop constructive relationships; and",
    "– interact with internal and external stakeholders to provide services and support for a diverse range of clients.",
)

# (number, title) of each outcome.
NZ_OUTCOMES = (
    (
        "1",
        "Interact with clients, using a client-centred approach, to gather case information and develop constructive relationships.",
    ),
    (
        "2",
        "Interact with internal and external stakeholders to provide services and support for a diverse range of clients.",
    ),
)

# (number, text) of each performance criterion, in order.
NZ_CRITERIA = (
    ("1.1", "Establish an appropriate environment for client interaction in terms of privacy, safety, and comfort."),
    (
        "1.2",
        "Interact with clarity, respect, and cultural competence and in accordance with organisational requirements.",
    ),
    ("1.3", "Demonstrate active communication to establish facts and needs to encourage, client participation."),
    ("1.4", "Use questions to gather sufficient information to enable sound decisions."),
    (
        "1.5",
        "Address client circumstances, reactions, and emotions in a supportive manner whilst progressing the interaction.",
    ),
    (
        "1.6",
        "Maintain an environment that facilitates collaboration, and client cooperation, and minimises risk of conflict escalation.",
    ),
    ("2.1", "Understand and comply with expected protocols of stakeholders."),
    (
        "2.2",
        "Interact professionally and inclusively and in a manner likely to influence stakeholders in order to jointly promote effective and appropriate client outcomes.",
    ),
)

# Range statements per criterion; criteria not listed have none.
NZ_RANGES = {
    "1.3": (
        "may include but is not limited to – use of open questions, reflective listening, appropriate non-verbal behaviours, tone of voice.",
    ),
    "1.4": (
        "questioning techniques are in accordance with organisational and legislative requirements, are realistic, reflect the situation, are consistent with available resources and options, and balance client expectations with realistic and justifiable provision of services.",
    ),
    "1.5": ("professionalism, empathy.",),
    "1.6": ("situational awareness, active listening skills, non-verbal behaviours, health and safety protocols.",),
    "2.1": ("protocols may include but are not limited to – organisational, business, cultural, judicial.",),
}

NZ_GUIDANCE_1_TEXT = "Legislation and obligations relevant to this unit standard includes but are not limited to:"
NZ_GUIDANCE_1_ITEMS = (
    "Health and Safety at Work Act 2015;",
    "Human Rights Act 1993;",
    "New Zealand Bill of Rights Act 1990;",
    "Official Information Act 1982;",
    "Privacy Act 2020;",
    "Treaty of Waitangi/Te Tiriti o Waitangi;",
    "Specific legislation applicable to a particular situation (e.g. Employment Relations Act 2000, Residential Tenancies Act 1986, Contract and Commercial Law Act 2017, Resource Management Act 1991);",
)

NZ_GUIDANCE_1_CLOSING = "and all subsequent amendments and replacements."

# Paragraphs of the general guidance notes 2, 3 and 4.
NZ_GUIDANCE_GENERAL = {
    "2": (
        "Although this unit standard is classified in the Case Management domain within the Public Sector Services subfield, it is written so it can also be applied to non- public sector organisations as well as those within the public sector.  Examples of such non- public sector organisations are insurance companies and third-party providers, health service providers, and rehabilitation service providers.",
    ),
    "3": (
        "Demonstration of knowledge and skills must be consistent with any applicable code or codes of conduct such as the New Zealand State Services Code of Conduct, Standards of Integrity and Conduct (available from http://www.ssc.govt.nz) and/or any other organisation or sector specific code or codes of conduct and/or ethics, and must reflect operating professionally and ethically in New Zealand’s diverse, bi-, and multicultural environment.",
        "All interactions with clients, their whānau, and peers/managers must reflect the values of the organisation and be consistent with the policies, procedures, and engagement models.",
    ),
    "4": (
        "Performance must be demonstrated in the workplace or in practical simulation that fully replicates workplace conditions, materials, activities, responsibilities, and procedures.",
    ),
}

# Guidance note 5, Definitions: (term as it appears in the paragraph, whole paragraph).
NZ_DEFINITIONS = (
    (
        "Case management",
        "Case management is a collaborative process of assessment, planning, facilitation, and advocacy of options and services to meet an individual’s holistic needs through communication and available resources to promote quality cost-effective outcomes.",
    ),
    ("Client", "Client, for the purpose of this unit standard, refers to the end user of a service."),
    (
        "client-centred approach",
        "A client-centred approach in case management is a collaborative process that assesses, plans, implements, facilitates, monitors and evaluates the options and services required to meet a client’s needs within organisational requirements and related stakeholder needs.  This approach involves working with a diverse range of people to manage a series of phases that assist clients to access available and relevant resources to promote quality outcomes.  Cases may involve personal, social and/or legal situations in a range of contexts and complexities.",
    ),
    (
        "Conflict",
        "Conflict refers to situations where a party or parties may cause emotional and/or physical harm or threat.  Examples of behaviours that may cause such harm are: intimidation; obstruction; assault; sexist or racist abuse; swearing and/or other abusive language; loitering, stalking, or other forms of harassment.",
    ),
    (
        "Organisational requirements",
        "Organisational requirements refer to instructions to staff on policies, procedures, and methodologies which are documented and are available in the workplace.",
    ),
    (
        "Stakeholders",
        "Stakeholders refers to external and internal stakeholders.  External stakeholders may include but are not limited to – other agencies, professionals, judiciary, other service providers, networks, general public.  Internal stakeholders are primarily the candidate and the staff and management of the candidate’s organisation.",
    ),
)

# --- training.gov.au: CSCOFM023 Establish offender management practices ---

CSC_CODE = "CSCOFM023"
CSC_TITLE = "Establish offender management practices"
CSC_COMPETENCY_FIELD = "Offender management"

# Application paragraphs.
CSC_APPLICATION = (
    "This unit describes the skills required to develop an offender case management system and design and monitor system implementation procedures.",
    "This unit applies to those working in management or supervisory roles within offender management. This role may be undertaken in a custodial environment or community correctional services setting.",
    "The skills and knowledge described in this unit must be applied within the legislative, regulatory and policy environment in which they are carried out. Organisational policies and procedures must be consulted and adhered to, particularly those related to offender management.",
    "Those undertaking this unit work autonomously drawing upon and evaluating support from a broad range of resources. The role requires high level organisation, communication and evaluation skills.",
    "No licensing, legislative or certification requirements apply to this unit at the time of publication.",
)

# (number, title) of each element.
CSC_ELEMENTS = (
    ("1", "Develop a case management system"),
    ("2", "Design and monitor implementation procedures"),
)

# (number, text) of each performance criterion, in order.
CSC_CRITERIA = (
    (
        "1.1",
        "Ensure that assessment of organisation’s needs is undertaken according to organisation’s philosophy, strategic plans, purpose and structure.",
    ),
    (
        "1.2",
        "Consult information on a range of suitable interventions to address immediate, short and longerterm needs of the organisation’s clients.",
    ),
    (
        "1.3",
        "Consult key people in the organisation to ensure issues and options for their resolution are explored thoroughly.",
    ),
    ("1.4", "Negotiate common goals, objectives and processes and establish agreement with key people."),
    (
        "1.5",
        "Explore a range of options for addressing the organisation’s needs and include selected options in case management processes.",
    ),
    (
        "1.6",
        "Determine processes for monitoring achievement of goals, timeframes and resources through consultation in the system planning stage.",
    ),
    (
        "1.7",
        "Define roles, responsibilities and accountabilities for clients, stakeholders, workers and service providers.",
    ),
    (
        "1.8",
        "Negotiate and get agreement on processes of appeal and the renegotiation of services and include in the system plan.",
    ),
    (
        "1.9",
        "Identify and address relevant social, family, community, cultural and ideological considerations in the case management process.",
    ),
    ("2.1", "Put in place practical strategies and resources to support key people involved in implementation."),
    (
        "2.2",
        "Define negotiable and non-negotiable aspects of the case management process, and include controls to ensure they are maintained.",
    ),
    ("2.3", "Negotiate and reach agreement on ongoing case management processes with key people in the organisation."),
    (
        "2.4",
        "Ensure contracts with external service providers accurately reflect purpose, policies, objectives, timing and resource constraints.",
    ),
    (
        "2.5",
        "Create procedures that ensure information is shared between key people in the organisation and those involved in the implementation of the processes.",
    ),
    (
        "2.6",
        "Review and measure the progress of specialist client service delivery against defined performance indicators.",
    ),
    ("2.7", "Check that procedures clearly define methods of dealing with crisis and risks."),
    ("2.8", "Ensure that the case management process is understood and agreed to by involved supervisory staff."),
    ("2.9", "Ensure procedures define resource evaluation methods for the ongoing implementation of the process."),
    ("2.10", "Complete all relevant reporting procedures."),
)

CSC_PE_TEXT = "Evidence required to demonstrate competence must satisfy all of the requirements of the elements and performance criteria. If not otherwise specified the candidate must demonstrate evidence of performance of the following on at least one occasion."

# Evidence of Performance items, numbered in seed order.
CSC_PE_ITEMS = (
    ("PE1", "interpreting and applying legislation, strategic plans and organisational purpose"),
    ("PE2", "anticipating and managing organisational issues"),
    ("PE3", "developing and assessing models appropriate for intervention"),
    ("PE4", "collecting and analysing information"),
    ("PE5", "documenting plans and systems"),
    ("PE6", "consulting with and negotiating mutually agreed outcomes with staff at all levels in the organisation"),
    ("PE7", "communicating verbally, including interviewing, negotiating"),
    ("PE8", "establishing and maintaining relationships and networks interpersonal communication, including"),
    ("PE9", "researching current trends in case management"),
    ("PE10", "analysing and evaluating practices"),
    ("PE11", "planning for practice improvement"),
    ("PE12", "explaining complex issues with different people in the organisation"),
    ("PE13", "applying program evaluation and review strategies"),
)

CSC_KE_TEXT = "Evidence required to demonstrate competence must satisfy all of the requirements of the elements and performance criteria. If not otherwise specified the depth of knowledge demonstrated must be appropriate to the job context of the candidate."

# Evidence of Knowledge items, numbered in seed order: (id, text, nested (id, text) items).
CSC_KE_ITEMS = (
    (
        "KE1",
        "relevant policy including environmental and/or sustainability practices, procedures and legislation and statutory requirements related to offender management and services, quality management and assurance, organisational programs and services, strategic plans, and case management protocols and procedures",
        (),
    ),
    ("KE2", "different models of intervention and behaviour change management", ()),
    ("KE3", "organisational and cultural protocols and systems", ()),
    ("KE4", "family structure, dynamics, communication and decision making", ()),
    ("KE5", "family support and family casework strategies", ()),
    ("KE6", "range of community services and available resources", ()),
    ("KE7", "indicators of abuse and accepted intervention strategies", ()),
    ("KE8", "effects of abuse on human development", ()),
    ("KE9", "effects of different forms of intervention", ()),
    ("KE10", "effects of incarceration", ()),
    ("KE11", "operational planning processes", ()),
    ("KE12", "report writing and documentation requirements", ()),
    ("KE13", "stress-management techniques", ()),
    ("KE14", "meeting procedures and facilitation", ()),
    ("KE15", "developing and maintaining appropriate networks", ()),
    (
        "KE16",
        "program specific knowledge, including:",
        (
            (
                "KE16.1",
                "organisation’s policies, objectives and program requirements for addressing offending behaviour using a case management approach",
            ),
            (
                "KE16.2",
                "organisation’s criteria and protocols for suitability of programs and conditions for referral to programs within the organisation and in other agencies",
            ),
            (
                "KE16.3",
                "range of approaches used to prevent and reduce the harm caused by specific offending behaviour and behaviour likely to lead to offending",
            ),
            ("KE16.4", "theories of power and their analysis of relationships in the correctional environment"),
            (
                "KE16.5",
                "intervention techniques that use personal responsibility and motivation and a range of alternative strategies",
            ),
            (
                "KE16.6",
                "partnership accountability that makes practice open to those who have an investment in the outcomes of case management and its role in reducing offending behaviour",
            ),
            (
                "KE16.7",
                "restorative justice programs in which justice shifts from seeing crime as an offence against the state to treating it as an offence against people and relationships and tackling reconciliation and restitution at the human relationship level",
            ),
            (
                "KE16.8",
                "alternative justice programs that focus on the offending behaviour and how to change it or require that the offender makes reparation rather than automatic incarceration",
            ),
        ),
    ),
    (
        "KE17",
        "behaviour theories and therapeutic responses, including:",
        (
            (
                "KE17.1",
                "cognitive behavioural theory that emphasises the way that people’s thinking affects their behaviour and how thinking patterns can be changed to improve problem-solving skills and give people acceptable and constructive alternatives to harmful and illegal behaviour",
            ),
            (
                "KE17.2",
                "human development theory that uses knowledge of the ways in which common human behaviours change during a life span and the way priorities evolve through the stages of life",
            ),
            (
                "KE17.3",
                "systems theory that focuses on the interdependence of individuals, families, groups, organisations, environments and cultures as an explanation of how people operate and interrelate",
            ),
            (
                "KE17.4",
                "motivational interviewing that uses tactical and strategic persuasion to increase an individual’s motivation by generating arguments for change from the individual",
            ),
            (
                "KE17.5",
                "therapeutic group work that relies on knowledge of how the energies of group members can be mobilised and channelled to help each other and to increase responsibility and control",
            ),
            (
                "KE17.6",
                "criminogenic factors in needs assessment that use testing of specific factors to determine appropriate intervention strategies",
            ),
            (
                "KE17.7",
                "reflective practice that uses analysis of personal practice for increased selfawareness and professional development",
            ),
            (
                "KE17.8",
                "grief and loss theories that explain how grief reactions to loss can result in a range of behaviour requiring consideration in the design of intervention and response",
            ),
        ),
    ),
)

# Assessment Conditions paragraphs.
CSC_ASSESSMENT_CONDITIONS = (
    "Valid assessment of this unit requires a workplace environment or one that closely resembles normal work practice and replicates the range of conditions likely to be encountered by an individual responsible for developing and establishing offender management practices effectively as part of a coordinated team, including coping with difficulties, irregularities and changes to routine.",
    "Assessors must satisfy the NVR/AQTF mandatory competency requirements for assessors.",
)

# Foundation Skills paragraphs.
CSC_FOUNDATION_SKILLS = (
    "The foundation skills demands of this unit have been mapped for alignment with the Australian Core Skills Framework (ACSF). The following tables outline the performance levels indicated for successful attainment of the unit.",
    "ACSF levels indicative of performance:",
    "Further information on ACSF and the foundation skills underpinning this unit can be found in the Foundation Skills Guide on the GSA website.",
)
