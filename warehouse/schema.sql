-- commonground warehouse schema: every table, created idempotently. Times are UTC without zone.

-- What was collected ------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS accounts (
    account_id      VARCHAR PRIMARY KEY,      -- platform:native id
    source          VARCHAR NOT NULL,
    native_id       VARCHAR NOT NULL,
    handle          VARCHAR NOT NULL,
    display_name    VARCHAR,
    bio             VARCHAR,
    followers_count BIGINT,
    url             VARCHAR,
    query           VARCHAR,                  -- provenance of the newest payload
    source_url      VARCHAR,
    client_version  VARCHAR,
    retrieved_at    TIMESTAMP,
    raw             JSON
);

CREATE TABLE IF NOT EXISTS posts (
    post_id           VARCHAR PRIMARY KEY,    -- platform:native id
    source            VARCHAR NOT NULL,
    native_id         VARCHAR NOT NULL,
    author_id         VARCHAR NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    text              VARCHAR NOT NULL,
    lang              VARCHAR,
    url               VARCHAR,
    reply_to_post_id  VARCHAR,
    quote_of_post_id  VARCHAR,
    repost_of_post_id VARCHAR,
    hashtags          VARCHAR[],
    query             VARCHAR,
    source_url        VARCHAR,
    client_version    VARCHAR,
    retrieved_at      TIMESTAMP,
    raw               JSON,
    version_at        TIMESTAMP               -- when this version was written, where the payload says
);

-- Older versions of edited posts (posts holds the newest); each is recorded once, however often read.
CREATE TABLE IF NOT EXISTS post_versions (
    version_id    VARCHAR PRIMARY KEY,        -- hash of (post, version time, text)
    post_id       VARCHAR NOT NULL,
    version_at    TIMESTAMP,                  -- when this version was written (NULL: at created_at)
    created_at    TIMESTAMP NOT NULL,
    text          VARCHAR NOT NULL,
    source_url    VARCHAR,
    retrieved_at  TIMESTAMP,
    raw           JSON,
    replaced_at   TIMESTAMP NOT NULL,         -- when it was recorded as not the newest
    run_id        VARCHAR
);

CREATE TABLE IF NOT EXISTS interactions (
    interaction_id  VARCHAR PRIMARY KEY,      -- hash of (post, kind, target account)
    source          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,         -- reply | quote | repost | mention
    post_id         VARCHAR NOT NULL,         -- the post that made the interaction
    src_account_id  VARCHAR NOT NULL,
    dst_account_id  VARCHAR NOT NULL,
    target_post_id  VARCHAR,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id   VARCHAR PRIMARY KEY,      -- hash of (source, origin, line, raw): re-runs never duplicate
    source          VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL,         -- file path or request URL
    line_no         BIGINT,
    reason          VARCHAR NOT NULL,
    raw             VARCHAR NOT NULL,
    run_id          VARCHAR,
    quarantined_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS cursors (
    source      VARCHAR NOT NULL,
    query       VARCHAR NOT NULL,
    cursor      VARCHAR NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (source, query)
);

-- People who asked to be left out (`commonground opt-out`): never ranked, shown, exported or reported;
-- their posts stay out of every snapshot. Never published itself: the list names them.
CREATE TABLE IF NOT EXISTS opt_outs (
    account_id  VARCHAR PRIMARY KEY,          -- platform:native id, as in accounts
    added_at    TIMESTAMP NOT NULL,
    note        VARCHAR                       -- why, or who asked (optional)
);

-- What enrich derives ------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS post_features (
    post_id    VARCHAR PRIMARY KEY,
    hashtags   VARCHAR[],                     -- lower-cased, from the text and the payload
    mentions   VARCHAR[],
    urls       VARCHAR[],
    entities   JSON,                          -- [[text, label], ...]
    key_terms  VARCHAR[],                     -- content lemmas
    lang       VARCHAR,
    n_words    INTEGER
);

CREATE TABLE IF NOT EXISTS tone_scores (
    post_id          VARCHAR NOT NULL,
    model_version    VARCHAR NOT NULL,
    constructive     DOUBLE,                  -- NULL when unscored
    hostile          DOUBLE,                  -- NULL when unscored
    is_constructive  BOOLEAN NOT NULL,
    is_hostile       BOOLEAN NOT NULL,
    tone             VARCHAR NOT NULL,        -- constructive | neutral | hostile | unscored
    attributes       JSON,
    reasons          VARCHAR[],               -- the attributes that drove the tone, strongest first
    unscored_reason  VARCHAR,                 -- why the model did not judge it (empty, not English (fr), ...)
    scored_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, model_version)
);

-- What analyze derives (one analysis = topic × window; a re-run replaces its rows) ---------------

CREATE TABLE IF NOT EXISTS analyses (
    analysis_id    VARCHAR PRIMARY KEY,       -- topic:window_start:window_end
    topic          VARCHAR NOT NULL,
    window_start   TIMESTAMP NOT NULL,
    window_end     TIMESTAMP NOT NULL,
    model_version  VARCHAR NOT NULL,          -- the tone model whose scores it read
    run_id         VARCHAR NOT NULL,          -- the run that wrote the current rows
    n_posts        BIGINT NOT NULL,
    n_accounts     BIGINT NOT NULL,
    n_edges        BIGINT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS communities (
    analysis_id   VARCHAR NOT NULL,
    account_id    VARCHAR NOT NULL,
    community_id  INTEGER NOT NULL,           -- fine Leiden community
    camp_id       INTEGER,                    -- merged camp; NULL when the account has no camp
    PRIMARY KEY (analysis_id, account_id)
);

CREATE TABLE IF NOT EXISTS community_profiles (
    analysis_id         VARCHAR NOT NULL,
    camp_id             INTEGER NOT NULL,
    label               VARCHAR NOT NULL,
    size                INTEGER NOT NULL,
    n_posts             INTEGER NOT NULL,
    insularity          DOUBLE,               -- share of endorsements by members that stay inside
    ei_index            DOUBLE,               -- (external - internal) / (external + internal), all edges
    share_constructive  DOUBLE,
    share_neutral       DOUBLE,
    share_hostile       DOUBLE,               -- shares among the posts the model could judge
    n_unscored          INTEGER,              -- posts it could not judge (empty, no words, not English)
    top_hashtags        JSON,
    top_terms           JSON,
    top_accounts        JSON,
    PRIMARY KEY (analysis_id, camp_id)
);

CREATE TABLE IF NOT EXISTS polarization (
    analysis_id    VARCHAR NOT NULL,
    measure        VARCHAR NOT NULL,
    value          DOUBLE,
    baseline_mean  DOUBLE,
    baseline_std   DOUBLE,
    z              DOUBLE,
    PRIMARY KEY (analysis_id, measure)
);

CREATE TABLE IF NOT EXISTS voices (
    analysis_id         VARCHAR NOT NULL,
    account_id          VARCHAR NOT NULL,
    rank                INTEGER NOT NULL,
    score               DOUBLE NOT NULL,
    constructiveness    DOUBLE NOT NULL,
    bridging            DOUBLE NOT NULL,
    hostility           DOUBLE NOT NULL,
    n_posts             INTEGER NOT NULL,
    home_camp           INTEGER,
    camps_reached       JSON,                 -- {camp_id: constructive engagements}
    example_posts       JSON,                 -- [post_id, ...]
    reasons             VARCHAR NOT NULL,
    PRIMARY KEY (analysis_id, account_id)
);

-- Stakeholder role each account of an analysis declares in its bio (models/roles.py); accounts whose
-- bio declares none have no row. Join on (analysis_id, account_id) to filter voices or camps by role.
CREATE TABLE IF NOT EXISTS account_roles (
    analysis_id  VARCHAR NOT NULL,
    account_id   VARCHAR NOT NULL,
    role         VARCHAR NOT NULL,            -- a key of models/roles.py ROLES, e.g. 'gp'
    label        VARCHAR NOT NULL,            -- the words people see for it, e.g. 'GP'
    evidence     VARCHAR NOT NULL,            -- the bio words that declared it, e.g. 'GP partner'
    PRIMARY KEY (analysis_id, account_id)
);

-- The echo-chamber map (models/network_layout.py): a bounded sample of an analysis' accounts (every
-- constructive voice, then each camp's most endorsed accounts) with their positions, and the strongest
-- edges among them, so the dashboard draws the map without laying anything out.
CREATE TABLE IF NOT EXISTS network_layout (
    analysis_id   VARCHAR NOT NULL,
    account_id    VARCHAR NOT NULL,
    x             DOUBLE NOT NULL,            -- in [-1, 1]
    y             DOUBLE NOT NULL,
    camp_id       INTEGER,                    -- NULL when the account has no camp
    degree        INTEGER NOT NULL,           -- accounts it interacted with in the window (whole network)
    endorsements  INTEGER NOT NULL,           -- reposts and quotes it received in the window
    is_voice      BOOLEAN NOT NULL,           -- ranked among the constructive voices
    PRIMARY KEY (analysis_id, account_id)
);

CREATE TABLE IF NOT EXISTS network_layout_edges (
    analysis_id     VARCHAR NOT NULL,
    src_account_id  VARCHAR NOT NULL,         -- the pair's lower account id
    dst_account_id  VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,         -- endorsement (any repost or quote between them) | contact
    weight          DOUBLE NOT NULL,          -- interactions between the two, both ways
    PRIMARY KEY (analysis_id, src_account_id, dst_account_id)
);

-- Lineage ------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS runs (
    run_id       VARCHAR PRIMARY KEY,
    flow         VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,            -- running | completed | failed | interrupted
    params       JSON,
    counts       JSON,
    message      VARCHAR
);

-- Posts read from each source, per run and page: X bills every post read, so budgets are summed here.
CREATE TABLE IF NOT EXISTS source_reads (
    run_id       VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    query        VARCHAR NOT NULL,
    posts_read   BIGINT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL
);

-- Posts deleted because their author removed them from the platform (`commonground compliance`): an
-- ingest skips them, so a re-import never brings one back. The hash names the post without its text.
CREATE TABLE IF NOT EXISTS deletions (
    post_hash   VARCHAR PRIMARY KEY,          -- sha256 of the post_id (warehouse/deletions.py)
    source      VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,             -- e.g. 'mastodon: 404 Record not found', 'x: deleted'
    deleted_at  TIMESTAMP NOT NULL
);

-- The weekly reports written (flows/report): one row per ISO week; a rebuilt week replaces its row.
CREATE TABLE IF NOT EXISTS reports (
    week           VARCHAR PRIMARY KEY,       -- ISO week, e.g. 2026-W47
    week_start     TIMESTAMP NOT NULL,        -- Monday 00:00 UTC
    week_end       TIMESTAMP NOT NULL,        -- the next Monday 00:00 UTC (exclusive)
    folder         VARCHAR NOT NULL,          -- data_dir/reports/YYYY-Www
    files          VARCHAR[] NOT NULL,        -- file names in the folder
    enough_data    BOOLEAN NOT NULL,          -- false: the report says the week had too little data
    n_posts        BIGINT NOT NULL,
    n_accounts     BIGINT NOT NULL,
    analysis_id    VARCHAR,                   -- the analysis whose camps and voices it shows
    model_version  VARCHAR NOT NULL,
    pseudonymized  BOOLEAN NOT NULL,
    run_id         VARCHAR NOT NULL,
    generated_at   TIMESTAMP NOT NULL
);

-- The dashboard's own database (outreach.duckdb) ---------------------------------------------------

-- A community manager's shortlist and notes, written only by the dashboard.
CREATE TABLE IF NOT EXISTS outreach (
    account_id  VARCHAR PRIMARY KEY,
    status      VARCHAR,                      -- to contact | contacted | replied | declined
    note        VARCHAR,
    updated_at  TIMESTAMP
);

-- Every change to the shortlist, oldest first: who was added, updated or removed, with what status and note.
CREATE TABLE IF NOT EXISTS outreach_history (
    account_id  VARCHAR NOT NULL,
    changed_at  TIMESTAMP NOT NULL,
    action      VARCHAR NOT NULL,             -- added | updated | removed
    status      VARCHAR,                      -- the status after the change (before it, for removed)
    note        VARCHAR
);

-- Names a community manager gave to camps (the dashboard shows them instead of the generated label).
CREATE TABLE IF NOT EXISTS camp_names (
    analysis_id  VARCHAR NOT NULL,
    camp_id      INTEGER NOT NULL,
    label        VARCHAR NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (analysis_id, camp_id)
);

-- "This tone is right / wrong" on a post, with the tone the reader says is right; exported as CSV for
-- `commonground eval --labels FILE`. Keeps the text: the label is about these words.
CREATE TABLE IF NOT EXISTS tone_feedback (
    feedback_id     VARCHAR PRIMARY KEY,
    post_id         VARCHAR NOT NULL,
    text            VARCHAR NOT NULL,
    model_version   VARCHAR,
    model_tone      VARCHAR,                  -- constructive | neutral | hostile | unscored
    verdict         VARCHAR NOT NULL,         -- right | wrong
    corrected_tone  VARCHAR,                  -- the reader's tone when wrong (may be NULL: not said)
    created_at      TIMESTAMP NOT NULL
);

-- The API's own database (api.duckdb), written only when api_store_scores is on -------------------

-- A comment scored by `commonground api`: its hash, never its text (doNotStore requests leave no row).
CREATE TABLE IF NOT EXISTS api_scores (
    score_id       VARCHAR PRIMARY KEY,       -- random: the same text scored twice is two rows
    scored_at      TIMESTAMP NOT NULL,
    model_version  VARCHAR NOT NULL,
    text_sha256    VARCHAR NOT NULL,
    constructive   DOUBLE NOT NULL,
    hostile        DOUBLE NOT NULL,
    tone           VARCHAR NOT NULL,
    attributes     JSON,                      -- {attribute: probability}
    client_token   VARCHAR
);
