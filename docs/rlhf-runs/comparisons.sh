# The start of every RLHF measurement, sourced by run.sh and run-c.sh with `M` (the miracle
# binary) set and the run's output folder as the working directory: the prompts, K sampled
# responses each, the rules' rankings (clean and 20% reversed), and the reward models.
$M demos --seed 7 --out prompts --calc 30 --code 30 --literature 150 --direct 40
$M demos --seed 8 --out prompts-b --calc 12 --code 12 --literature 60 --direct 16
$M label sample prompts/prompts.jsonl --out train-cand.jsonl
$M label sample prompts/heldout.jsonl --out val-cand.jsonl --seed 2
$M label sample prompts-b/prompts.jsonl --out valb-cand.jsonl --seed 5
$M label rank train-cand.jsonl --out train-cmp.jsonl
$M label rank train-cand.jsonl --out train-cmp-noisy.jsonl --noise 0.2 --seed 3
$M label rank val-cand.jsonl --out val-cmp.jsonl
$M label rank valb-cand.jsonl --out valb-cmp.jsonl
$M rm --config rm.yaml
$M rm --config rm.yaml --evaluate val-cmp.jsonl
$M rm --config rm.yaml --evaluate valb-cmp.jsonl
$M rm --config rm-noisy.yaml
