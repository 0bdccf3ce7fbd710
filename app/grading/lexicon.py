"""Word lists and precompiled patterns that the conversation signals are built from."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words plus conversational filler: sharing these says nothing about listening.
STOP_WORDS = _words(
    """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't could couldn't did didn't do does doesn't
    doing don't down during each few for from further had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if
    in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on
    once only or other ought our ours ourselves out over own same shan't she she'd she'll she's
    should shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've this those through to too under until up
    very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
    which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've
    your yours yourself yourselves just really actually like um uh oh yeah yes ok okay well right
    sure thanks thank great good nice cool awesome interesting lot lots thing things stuff kind
    sort bit way something anything everything maybe pretty quite definitely probably think know
    get got go going gone make made say said tell told want need feel felt mean see look looking
    work working worked job role experience time times people company day question questions
    answer love loved will shall may might must us let gonna wanna into onto also even still
    much many one ever never always often again back now today yet first next last new old big
    small little hear heard share sharing shared talk talked mention mentioned describe walk
    sounds sound seems come coming came curious wonder wondering hi hello"""
)

NUMBER_WORDS = _words(
    """two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty
    hundred hundreds thousand thousands million millions billion dozen dozens half quarter
    double triple twice"""
)

# Nouns that name concrete work products, events and results.
CONCRETE_TERMS = _words(
    """project migration pipeline service api dashboard launch rollout release outage incident
    customer client user latency database model feature prototype platform app system tool
    product codebase deploy deployment test experiment metric revenue budget roadmap contract
    campaign study course grant paper patient student refactor rewrite bug queue cache cluster
    schema integration infrastructure framework library repo script report survey pilot vendor
    shipment warehouse route routing fleet order invoice checkout search onboarding churn
    retention conversion benchmark postmortem hackathon open-source kubernetes kafka postgres
    compiler sdk"""
)

# Objects of enthusiasm that could be said of any company: not specific.
GENERIC_OBJECTS = _words(
    """opportunity opportunities mission culture company team role position technology tech values
    value product products industry growth chance challenge challenges environment place vision
    organisation organization business space field career future excited exciting passionate
    passion thrilled amazing incredible awesome fantastic wonderful brand reputation"""
)

SELF_WORDS = _words("i me my mine myself i'm i've i'd i'll")
OTHER_WORDS = _words("you your yours yourself you're you've you'd you'll we our ours us we're")
PROBLEM_WORDS = _words(
    """team teams customer customers user users client clients problem problems challenge
    challenges goal goals need needs pain bottleneck issue issues mission roadmap backlog
    business product patients students readers"""
)

FILLER_START = re.compile(
    r"^(?:(?:so|and|but|okay|ok|well|right|great|cool|now|then|alright|also|oh|hmm|yeah|yes|"
    r"sure|interesting|got it|i see|thanks|thank you|perfect|wow|nice)\b[\s,.!:;—–-]*)+"
)
AUX_START = re.compile(
    r"^(?:do|does|did|is|are|was|were|am|have|has|had|can|could|would|will|should|shall|may|"
    r"might|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|haven't|hasn't|couldn't|"
    r"shouldn't|wasn't|weren't)\s+(?:you|they|we|it|there|he|she|your|the|this|that|i|any|"
    r"anyone|someone|a|an|people|our|their|those|these)\b"
)
WH_QUESTION = re.compile(
    r"\b(?:what|how|why|which|who|whom|whose|when|where)(?:'s|'re|'d|\s+(?:do|does|did|is|are|"
    r"was|were|would|could|can|will|should|has|have|had|made|makes|led|drew|brought|got|kind|"
    r"sort|type|part|about|else|excites|excited|motivates|keeps|happened|changed|surprised|"
    r"many|much|long|often|old|far|soon))\b"
)
OPEN_CUE = re.compile(
    r"\b(?:tell\s+me|walk\s+me|talk\s+me|take\s+me\s+through|describe|explain|elaborate|say\s+more|"
    r"expand\s+on|help\s+me\s+understand|give\s+me\s+an\s+example|curious\s+(?:about|how|what|why)|"
    r"love\s+to\s+hear)\b"
)
PROMPT_START = re.compile(
    r"^(?:(?:next|first|last|final|another|quick)\s+(?:question|one)\s*[:,-]?\s*)?"
    r"(?:(?:can|could|would)\s+you\s+|please\s+)?(?:tell\s+me|walk\s+me|talk\s+me|take\s+me|"
    r"describe|explain|elaborate|say\s+more|help\s+me\s+understand|give\s+me\s+an\s+example)\b|"
    r"^i(?:'d|\s+would)\s+love\s+to\s+hear|^i'm\s+curious\s+(?:about|how|what|why|to)"
)
CLAUSE_PROMPT = re.compile(
    r"(?:^|[,;:—–]\s*)(?:(?:and|so|but|uh|um|er|okay|ok|well|now)[,\s]+)*(?:i(?:'d|\s+would)\s+love\s+"
    r"to\s+(?:hear|know|understand)|i'm\s+(?:really\s+)?curious\s+(?:about|how|what|why|to)|"
    r"tell\s+me\s+(?:a\s+(?:bit|little)\s+)?(?:more\s+)?(?:about|how|what|why|more)|"
    r"walk\s+me\s+through|talk\s+me\s+through)"
)
CLOSED_WH = re.compile(
    r"^(?:who|whom|whose|when|where|which)\b|^how\s+(?:many|much|long|often|old|far|soon)\b"
)
EXTRA_QUESTION = re.compile(
    r"(?:,|;|—|–|\s-\s|\band\b|\bor\b|\balso\b)\s+(?:and\s+|or\s+|also\s+|then\s+)?"
    r"(?:(?:what|how|why|who|when|where|which)(?:'s|\s+(?:\w+\s+){0,2}?(?:do|does|did|is|are|was|"
    r"were|would|could|can|will|should|has|have|had)\b)|(?:do|did|does|are|were|was|have|has|"
    r"can|could|would|will)\s+you\b)"
)
REFLECT_START = re.compile(
    r"^(?:so\s+)?(?:it\s+)?(?:sounds|seems)\s+like|^so\s+(?:you|your|it\s+was|for\s+you|the|that)"
    r"\b|^you(?:'ve|\s+have)?\s+(?:just\s+)?(?:mentioned|said|described|talked|told|noted|"
    r"brought\s+up|pointed\s+out|were\s+saying)|^(?:what\s+)?i(?:'m|\s+am)\s+hearing|"
    r"^if\s+i\s+(?:understand|heard|hear|got\s+that)|^in\s+other\s+words|^(?:that|it)\s+must\s+"
    r"(?:have|be)|^i\s+hear\s+(?:you|that)|^you\s+(?:felt|feel|seem|seemed|wanted|care|cared|"
    r"really|clearly|obviously)\b|^(?:the|that|your)\s+(?:\w+\s+){0,3}(?:sounds|seems)\b|"
    r"^you\s+(?!know\b|guys\b)\w+ed\b"
)
REFERENCE = re.compile(
    r"\byou\s+(?:just\s+)?(?:mentioned|said|described|talked\s+about|were\s+saying|brought\s+up|"
    r"pointed\s+out|told\s+me|noted|shared)\b|\bwhat\s+you\s+said\b|\bwhen\s+you\s+said\b|"
    r"\bsounds\s+like\b|\bmust\s+have\s+been\b|\bgoing\s+back\s+to\b|\bearlier\s+you\b|"
    r"\byou\s+(?:said|mentioned)\s+earlier\b|\bas\s+you\s+(?:said|put\s+it|mentioned)\b|"
    r"\b(?:that|it|this)\s+(?:sounds|must\s+(?:have\s+been|be)|seems)\s+(?:really\s+|so\s+|pretty\s+)?"
    r"\w+"
)
ACK = re.compile(
    r"\b(?:thanks?(?:\s+you)?(?:\s+for\s+(?:sharing|that|explaining))?|got\s+it|i\s+see|makes\s+"
    r"sense|that's\s+(?:great|interesting|fair|helpful|fascinating|impressive|cool)|great|"
    r"interesting|fair\s+enough|understood|appreciate\s+(?:that|it)|love\s+that|nice)\b"
)
# Pleasantries asked before the interview proper; they are not the interviewer's opening question.
SMALL_TALK = re.compile(
    r"\bhow\s+(?:are|r)\s+(?:you|ya|things)(?:\s+(?:doing|going|today|this\s+morning|this\s+"
    r"afternoon|holding\s+up|keeping))*\s*[?!.]*$|\bhow(?:'s|\s+is|\s+was|\s+has)\s+(?:it\s+"
    r"going|everything|life|(?:your|the)\s+(?:day|morning|afternoon|evening|week|weekend|trip|"
    r"journey|commute|drive|flight))\b|\bhow\s+(?:have|'ve)\s+you\s+been\b|\bdid\s+you\s+find\s+"
    r"(?:us|the\s+(?:office|place|building|room|link))\b|\bcan\s+you\s+(?:hear|see)\s+me\b|"
    r"\bare\s+you\s+(?:ready|all\s+set|settled\s+in)(?:\s+to\s+(?:start|begin|go|get\s+started|"
    r"kick\s+off))?\s*[?!.]*$|\b(?:shall|should|can)\s+we\s+(?:start|begin|get\s+started|kick\s+"
    r"off|dive\s+in)\s*[?!.]*$|\b(?:would\s+you\s+like|can\s+i\s+get\s+you|do\s+you\s+want)\s+"
    r"(?:a\s+|some\s+)?(?:water|coffee|tea|drink)"
)
NUMBER = re.compile(r"[$£€]?\b\d[\d,.]*(?:\s*(?:%|k\b|m\b|x\b|ms\b))?")
STORY_QUESTION = re.compile(
    r"\b(?:journey|your\s+story|your\s+path|path\s+(?:into|to)|background|sparked|prompted|"
    r"the\s+moment\s+you|(?:that|the)\s+(?:move|switch|jump|leap|transition|pivot)\s+(?:from|to|into)|"
    r"how'd\s+you|draw(?:s|ing)?\s+you|how\s+did\s+you\s+(?:end"
    r"\s+up|get\s+(?:into|started)|come\s+to|find|decide|choose|land|start)|what\s+(?:first\s+)?"
    r"(?:drew|led|brought|sparked|got|pulled|made)\s+you|why\s+did\s+you\s+(?:choose|decide|"
    r"move|switch|leave|pick|go\s+into)|what\s+made\s+you|where\s+did\s+(?:it|this|that)\s+start|"
    r"how\s+you\s+(?:got|ended\s+up|came))"
)
PASSION_QUESTION = re.compile(
    r"\b(?:excites?|excited|lights?\s+you\s+up|energi[sz]es?|passion(?:ate|s)?|love[ds]?\s+(?:most|"
    r"doing|about|working)|you\s+(?:really\s+)?(?:loved?|enjoy\w*|care)|enjoy(?:ed)?|favou?rite|"
    r"proud(?:est)?|care\s+(?:about|deeply)|most\s+fun|light\s+up|fulfil\w*|meaningful|"
    r"pull(?:s|ing)?\s+you\s+(?:back|in|toward)|draws?\s+you|keeps?\s+you\s+(?:coming|going|up)|"
    r"forget\w*\s+(?:to\s+check\s+)?the\s+(?:clock|time)"
    r"|outside\s+of\s+work|side\s+projects?|motivates?|drives?\s+you|fascinat\w+|curious\s+about|"
    r"lose\s+track\s+of\s+time|gets?\s+you\s+out\s+of\s+bed)\b"
)
POSITION_QUESTION = re.compile(
    r"\b(?:responsibilit(?:y|ies)|duties|job\s+title|your\s+title|current\s+(?:position|role)|"
    r"years\s+of\s+experience|reporting\s+line|headcount|salary|notice\s+period|"
    r"strengths\s+and\s+weaknesses|greatest\s+(?:weakness|strength)|your\s+(?:weaknesses?|"
    r"strengths?)|day[\s-]to[\s-]day|your\s+(?:resume|résumé|cv)|see\s+yourself\s+in|"
    r"why\s+should\s+we\s+hire|gpa|degree\s+in|certifications?|managed\s+how\s+many|"
    r"(?:current\s+|job\s+)?title|how\s+big\s+is\s+your\s+team|team\s+size|how\s+many\s+(?:years|"
    r"people|reports|direct\s+reports)|years\s+of\s+\w+|overview\s+of\s+your\s+experience|reasons?\s+for\s+leaving|"
    r"(?:previous|past|last\s+\w+)\s+employers)\b"
)
OPINION_QUESTION = re.compile(
    r"\b(?:what\s+(?:do|would)\s+you\s+(?:think|make\s+of|say|change|do\s+differently)|your\s+"
    r"(?:take|view|opinion|read|thoughts|perspective|instinct)|how\s+(?:do|would)\s+you\s+(?:see|"
    r"approach|think|feel|react|tackle)|do\s+you\s+(?:think|agree|buy|see\s+(?:it|this|that))|where\s+do\s+you\s+"
    r"(?:stand|land)|what's\s+your\s+(?:take|view|read|sense)|poke\s+holes|push\s+back)\b"
)
VISION = re.compile(
    r"\b(?:we(?:'re|\s+are)\s+(?:headed|heading|going|moving|planning|building|betting|aiming|"
    r"trying\s+to)|our\s+(?:goal|vision|mission|bet|plan|roadmap|strategy|ambition|north\s+star)|"
    r"(?:by|in)\s+(?:20\d\d|next\s+year|the\s+next\s+\w+\s+(?:years|months|quarters))|we\s+(?:want|"
    r"plan|hope|intend|aim)\s+to|where\s+we're\s+going|the\s+(?:vision|roadmap|strategy)|"
    r"over\s+the\s+next\s+\w+\s+(?:years|months|quarters))"
)
TREND = re.compile(
    r"\b(?:trends?|industry|market|shift(?:ing)?|landscape|regulation|regulators?|"
    r"(?:these|those)\s+days|lately|the\s+future\s+of|next\s+few\s+years|adoption|competitors?|"
    r"llms?|ai|machine\s+learning|open[\s-]source|remote\s+work|consolidation|commoditi[sz]\w*|"
    r"the\s+way\s+(?:the|this)\s+\w+\s+is\s+(?:going|moving|changing)|hype|disrupt\w*|"
    r"table\s+stakes|more\s+and\s+more|the\s+rise\s+of|(?:is|are)\s+becoming|"
    r"everyone(?:'s|\s+is)\s+(?:moving|shipping|doing|talking|building|bolting)|right\s+now)\b"
)
ROLE_QUESTION = re.compile(
    r"\b(?:this\s+(?:role|position|team)|the\s+(?:role|team)|first\s+(?:90|ninety|30|60|\w+)\s+"
    r"days|(?:six|6|three|3|twelve|12)\s+months|success\s+(?:look|looks|would\s+look)|biggest\s+"
    r"(?:challenge|problem|risk)|hardest\s+(?:part|problem)|the\s+problem|keep(?:s)?\s+you\s+up|"
    r"would\s+i\s+(?:own|work\s+on|start)|would\s+(?:this|the)\s+(?:person|hire)|"
    r"you\s+mentioned|you\s+said|measure|trade-?offs?|decid\w+|on\s+my\s+plate|would\s+i\s+own|"
    r"what\s+would\s+\w+\s+look\s+like|my\s+role|blocker|bottleneck)\b"
)
SOLUTION = re.compile(
    r"\b(?:i(?:'d|\s+would)\s+(?!love|like|say|be\s+(?:able|happy|glad|excited|thrilled|a)\b|hit\s+the|bring|add|fit)\w+|"
    r"i'll\s+(?:start|begin|first)|my\s+(?:first\s+step|"
    r"approach|plan)|(?:first|then|next),?\s+i(?:'d|\s+would)|we\s+could|you\s+could|"
    r"one\s+option|the\s+way\s+i(?:'d|\s+would)|in\s+the\s+first\s+\w+\s+(?:days|weeks|months)|"
    r"that's\s+(?:similar|close)\s+to|i\s+solved|when\s+we\s+had\s+(?:the\s+)?same)\b"
)
SELF_PROMOTION = re.compile(
    r"\bi(?:'m|\s+am)\s+(?:a\s+|an\s+|very\s+|really\s+|extremely\s+|highly\s+|super\s+)?"
    r"(?:great|strong|hard[\s-]?working|hard\s+worker|quick|fast\s+learner|natural|proven|"
    r"excellent|skilled|proficient|experienced|dedicated|detail[\s-]oriented|results[\s-]"
    r"driven|team\s+player|self[\s-]starter|perfectionist|people\s+person|go-getter|rock\s*star"
    r"|ninja|leader|expert)\b|\bmy\s+(?:main\s+|biggest\s+|greatest\s+|key\s+)?(?:skills?|"
    r"strengths?|skill\s+set)\b|"
    r"\b(?:years\s+of\s+experience|i\s+bring|i\s+have\s+(?:a\s+)?(?:proven|extensive|strong)|"
    r"team\s+player|fast\s+learner|quick\s+learner|self[\s-]starter|people\s+person|hard\s+worker|"
    r"go-getter|track\s+record|add\s+(?:a\s+lot\s+of\s+)?value|perfect\s+fit|right\s+(?:person|fit)"
    r"\s+for|best\s+(?:engineer|candidate|person|designer|manager)|i'm\s+confident\s+i\s+can|"
    r"strong\s+(?:\w+\s+)?skills|(?:very|really|extremely)\s+good\s+at|i'm\s+sure\s+i\s+(?:can|could|"
    r"would|will))\b"
)
PERSONAL = re.compile(
    r"\b(?:honestly|to\s+be\s+honest|truth\s+is|i\s+(?:was|felt)\s+(?:scared|nervous|terrified|"
    r"embarrassed|proud|lost|stuck|frustrated|hooked|wrong)|my\s+(?:dad|mum|mom|mother|father|"
    r"kids?|daughter|son|partner|wife|husband|family|grandm\w+|grandf\w+|friend|weekends?|hobby)|"
    r"i\s+(?:love|hate|adore|miss)\b|on\s+weekends|in\s+my\s+spare\s+time|i\s+still\s+remember|"
    r"i\s+(?:messed|screwed)\s+up|i\s+learned\s+the\s+hard\s+way|confession|admittedly)\b"
)
STORY_MARKER = re.compile(
    r"\b(?:i\s+remember|one\s+time|back\s+when|at\s+the\s+time|when\s+i\s+was|years\s+ago|"
    r"last\s+(?:year|month|week|summer|spring|autumn|fall|winter)|the\s+first\s+time|"
    r"it\s+turned\s+out|that's\s+when|ever\s+since)\b"
)
HUMOUR = re.compile(
    r"\b(?:haha+|hah|lol|joke|joking|kidding|funny|laugh(?:ed|ing)?)\b|\((?:laughs?|smiles?)\)|"
    r"😄|😂|🙂"
)
ENTHUSIASM = re.compile(
    r"\b(?:excit\w*|thrill\w*|passionate|love|loved|can't\s+wait|inspir\w*|fascinat\w*|energi\w+|"
    r"drawn\s+to|eager|keen|what\s+(?:got|gets)\s+me|stood\s+out|hooked|caught\s+my\s+eye|"
    r"dream\s+job|always\s+wanted\s+to|appeal\w*|attract\w*|resonat\w*|struck\s+me|compelling|"
    r"that's\s+the\s+kind\s+of\s+(?:\w+\s+){1,3}i\s+(?:want|love|enjoy))\b"
)
# Text that tries to talk to the grader rather than the interlocutor.
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore\s+(?:all\s+|the\s+|any\s+|your\s+|previous\s+|prior\s+)*(?:instructions|rubrics?|"
    r"rules|above|grading)|(?:give|grade|score|rate|mark)\s+(?:me|this|this\s+turn|my\s+answer|it)\s+"
    r"(?:a\s+|an\s+)?(?:5|five|10|ten|full\s+marks|top\s+marks|perfect(?:\s+score)?)(?:\s*/\s*\d+|"
    r"\s+out\s+of\s+\w+)?(?![\w-])(?!\s+(?:minutes?|mins?|seconds?|more|examples?|reasons?|things|"
    r"ways))|system\s+prompt|you\s+are\s+now\s+(?:a|an|the)\b|as\s+the\s+(?:grader|judge|evaluator)|"
    r"disregard\s+(?:the|all|previous|your)|new\s+instructions|(?:score|rating)\s*[:=]\s*5\b|"
    r"note\s+to\s+the\s+(?:grader|judge|evaluator))"
)
FEELING = re.compile(
    r"\b(?:brutal|rough|hard|tough|painful|scary|scared|stressful|frustrat\w*|exhaust\w*|intense|"
    r"a\s+lot|lonely|proud|relie\w+|worr\w+|nervous|excit\w+|angry|upset|burn\w*\s+out|grind|"
    r"draining|demoralis\w+|demoraliz\w+|overwhelm\w*|chaotic|messy|ouch|brave|"
    r"for\s+you|less\s+about|more\s+about|really\s+about|what\s+mattered|matters\s+to\s+you|"
    r"felt|feel|feeling)\b"
)
QUIZ = re.compile(
    r"\b(?:define|name\s+(?:the|three|two|all|a\s+few)|which\s+(?:version|year|company|library|tool|"
    r"\w+\s+model)|which\s+\w+(?:\s+\w+)?\s+did|what\s+year|what\s+does\s+\w+\s+stand\s+for|"
    r"spell\s+out|list\s+(?:the|all)|what\s+is\s+the\s+(?:difference|definition))\b"
)
HUMBLE_BRAG = re.compile(
    r"\b(?:i\s+(?:just\s+)?(?:care|work|try|give|push\s+myself|take\s+on)\s+too\s+(?:much|hard)|"
    r"take\s+on\s+too\s+much|can't\s+say\s+no|perfectionist|too\s+(?:detail[\s-]oriented|"
    r"passionate|dedicated|invested|honest|hard[\s-]working)|high\s+standards|"
    r"expect\s+too\s+much\s+of\s+myself)\b"
)
LOGISTICS = re.compile(
    r"\b(?:salary|compensation|pay\s+range|benefits|vacation|holiday\s+allowance|pto|next\s+steps|"
    r"hear\s+back|start\s+date|notice\s+period|remote\s+(?:work|policy)|relocat\w+|visa|"
    r"bonus|equity|stock\s+options)\b"
)
# "Kafka, Kubernetes, Snowflake and dbt": a list of names, often name-dropping.
NAME_LIST = re.compile(
    r"\b[A-Z][\w.+#-]*(?:,\s+[A-Z][\w.+#-]*)+,?\s+(?:and|or|&)\s+[A-Za-z][\w.+#-]*"
)
NAME_LIST_SPLIT = re.compile(r",\s*(?:and\s+|or\s+|&\s+)?|\s+(?:and|or|&)\s+")
COMMON_CAPITALISED = _words(
    """I I'm I've I'd I'll OK Okay Yes No So And But The A An It That This We You My Our He She
    They Hi Hello Thanks Thank Well Oh Yeah Sure Also Then Now Great Right Honestly Maybe What
    How Why When Where Who Which Do Did Is Are Can Could Would Will Should Just If As In On At
    For To Of With From By Tell Walk Mr Mrs Ms Dr CEO CTO HR"""
)
