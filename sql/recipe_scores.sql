-- The latest evaluation of every (preset, recipe, seed, benchmark) of the recipe grid, one row per
-- metric, with the episodes file behind it: the recipe report's input.
WITH latest AS (
    SELECT * FROM recipe_scores
    QUALIFY row_number() OVER (PARTITION BY grid_preset, recipe, seed, benchmark ORDER BY created_at DESC) = 1
)
SELECT l.recipe, l.seed, l.benchmark, s.metric, s.value, s.episodes_path, l.checkpoint_id,
       coalesce(l.grid_preset, 'ui') AS grid_preset, l.created_at
FROM latest AS l
JOIN scores AS s ON s.score_id = l.score_id AND s.benchmark = l.benchmark
ORDER BY l.recipe, l.benchmark, l.seed, s.metric;
