-- The latest score of every (benchmark, checkpoint stage, metric): the table the demo prints.
SELECT s.benchmark, c.stage, s.metric, s.value, s.checkpoint_id
FROM scores AS s
JOIN checkpoints AS c USING (checkpoint_id)
QUALIFY row_number() OVER (PARTITION BY s.benchmark, c.stage, s.metric ORDER BY s.created_at DESC) = 1
ORDER BY s.benchmark, c.stage, s.metric;
