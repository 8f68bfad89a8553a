-- Which dataset snapshots (hash, source, rows), parent checkpoints and config produced a
-- checkpoint. Walks the parent chain (FC-RL -> FE-SFT -> WM-AMT).
-- Parameter: $checkpoint_id
WITH RECURSIVE chain(checkpoint_id, depth) AS (
    SELECT checkpoint_id, 0 FROM checkpoints WHERE checkpoint_id = $checkpoint_id
    UNION ALL
    SELECT c.parent_checkpoint_id, chain.depth + 1
    FROM checkpoints c JOIN chain ON c.checkpoint_id = chain.checkpoint_id
    WHERE c.parent_checkpoint_id IS NOT NULL
)
SELECT
    chain.depth,
    c.checkpoint_id,
    c.stage,
    c.parent_checkpoint_id,
    c.code_version,
    c.seed,
    c.mlflow_run_id,
    ci.input_name,
    ds.data_version      AS snapshot_hash,
    ds.asset             AS snapshot_asset,
    ss.source,
    ss.rows              AS source_rows,
    c.config
FROM chain
JOIN checkpoints c USING (checkpoint_id)
LEFT JOIN checkpoint_inputs ci USING (checkpoint_id)
LEFT JOIN dataset_snapshots ds ON ds.data_version = ci.data_version
LEFT JOIN dataset_snapshots raw ON raw.data_version = ds.parent_data_version
LEFT JOIN snapshot_sources ss ON ss.data_version = COALESCE(raw.data_version, ds.data_version)
ORDER BY chain.depth, ci.input_name, ss.source;
