-- The latest score of every (benchmark, metric): the benchmark table the demo prints.
SELECT benchmark, metric, value, checkpoint_id
FROM scores
QUALIFY row_number() OVER (PARTITION BY benchmark, metric ORDER BY created_at DESC) = 1
ORDER BY benchmark, metric;
