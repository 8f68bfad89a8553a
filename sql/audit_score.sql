-- Which checkpoint (stage, parent, code version) produced each score of a benchmark.
-- Parameters: $benchmark (NULL for every benchmark)
SELECT
    s.benchmark,
    s.metric,
    s.value,
    s.created_at,
    s.checkpoint_id,
    c.stage,
    c.parent_checkpoint_id,
    c.code_version,
    s.mlflow_run_id,
    s.dagster_run_id,
    s.episodes_path
FROM scores s
LEFT JOIN checkpoints c USING (checkpoint_id)
WHERE $benchmark IS NULL OR s.benchmark = $benchmark
ORDER BY s.created_at DESC, s.benchmark, s.metric;
