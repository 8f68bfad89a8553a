-- DuckDB catalog of the pipeline: which data produced which checkpoint and which score.
-- Applied idempotently by foresight.catalog.Catalog on every connection.

CREATE TABLE IF NOT EXISTS dataset_snapshots (
    data_version        VARCHAR PRIMARY KEY,  -- content hash of the snapshot's rows
    asset               VARCHAR NOT NULL,     -- producing asset (trajectories, augmented_trajectories)
    path                VARCHAR NOT NULL,     -- Parquet file
    rows                BIGINT  NOT NULL,
    quarantined         BIGINT  NOT NULL,     -- records kept aside with a reason
    parent_data_version VARCHAR,              -- the snapshot this one was derived from
    created_at          TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS snapshot_sources (
    data_version VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,            -- hotpotqa, musique, gsm8k, or a canonical file
    rows         BIGINT  NOT NULL,
    PRIMARY KEY (data_version, source)
);

CREATE TABLE IF NOT EXISTS checkpoints (
    checkpoint_id        VARCHAR PRIMARY KEY, -- directory name: <stage>-<utc time>-<hash>
    stage                VARCHAR NOT NULL,    -- wm_amt, fe_sft, fc_rl
    path                 VARCHAR NOT NULL,
    parent_checkpoint_id VARCHAR,
    config               JSON,
    code_version         VARCHAR,
    seed                 INTEGER,
    mlflow_run_id        VARCHAR,
    dagster_run_id       VARCHAR,
    created_at           TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS checkpoint_inputs (
    checkpoint_id VARCHAR NOT NULL,
    input_name    VARCHAR NOT NULL,
    data_version  VARCHAR NOT NULL,
    PRIMARY KEY (checkpoint_id, input_name)
);

CREATE TABLE IF NOT EXISTS scores (
    score_id       VARCHAR NOT NULL,          -- data version of the benchmark materialization
    checkpoint_id  VARCHAR NOT NULL,
    benchmark      VARCHAR NOT NULL,
    metric         VARCHAR NOT NULL,
    value          DOUBLE,
    episodes_path  VARCHAR,
    mlflow_run_id  VARCHAR,
    dagster_run_id VARCHAR,
    created_at     TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (score_id, metric)
);

CREATE TABLE IF NOT EXISTS recipe_scores (
    recipe         VARCHAR NOT NULL,          -- foresight.recipes key, e.g. wm_amt.fe_sft.fc_rl
    seed           INTEGER NOT NULL,
    benchmark      VARCHAR NOT NULL,
    score_id       VARCHAR NOT NULL,          -- scores.score_id of this evaluation
    checkpoint_id  VARCHAR NOT NULL,
    dagster_run_id VARCHAR,
    created_at     TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (recipe, seed, benchmark, score_id)
);
-- The run-config preset the grid run used ('ui' for runs launched without one): the report never
-- mixes presets. Added after the table first shipped, hence the ALTER.
ALTER TABLE recipe_scores ADD COLUMN IF NOT EXISTS grid_preset VARCHAR;
