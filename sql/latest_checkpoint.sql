-- The newest checkpoint of the last stage (FC-RL), for `foresight audit checkpoint latest`.
SELECT checkpoint_id
FROM checkpoints
WHERE stage = 'fc_rl'
ORDER BY created_at DESC
LIMIT 1;
