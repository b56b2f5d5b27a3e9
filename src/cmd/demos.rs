//! `miracle demos --out DIR`: instruction data made by running the real experts — the
//! training demonstrations, and the held-out requests as an evaluation suite
//! (miracle_recipe::demos).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use miracle_recipe::demos::{DemoSpec, write_demos, write_gsm8k};
use miracle_router::demos::Counts;

#[derive(Debug, Args)]
pub struct DemosArgs {
    /// Folder for train.jsonl (demonstrations), prompts.jsonl (their requests, as a suite:
    /// prompts for RLHF) and heldout.jsonl (an evaluation suite).
    #[arg(long)]
    out: PathBuf,
    /// Requests per calculator family and language.
    #[arg(long, default_value_t = 300)]
    calc: usize,
    /// Requests per program family and language.
    #[arg(long, default_value_t = 150)]
    code: usize,
    /// Literature requests per language.
    #[arg(long, default_value_t = 1500)]
    literature: usize,
    /// Direct requests (greetings, thanks, questions about the assistant) per language.
    #[arg(long, default_value_t = 300)]
    direct: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead: GSM8K's training problems (its train.jsonl) as demonstrations, with every
    /// --heldout-every-th problem kept out as a validation suite (heldout.jsonl).
    #[arg(long, value_name = "FILE")]
    gsm8k: Option<PathBuf>,
    #[arg(long, default_value_t = 10, requires = "gsm8k")]
    heldout_every: usize,
    /// Instead: N requests from the compositional generator (meanings realised through a
    /// grammar in both languages; docs/TRAINING.md), each checked on the real experts. The
    /// held-out ones (whole words, frames and combinations no training request holds) go
    /// to heldout-composed.jsonl, each with the reasons it is held out.
    #[arg(long, value_name = "N", conflicts_with = "gsm8k")]
    compose: Option<usize>,
    /// The share of composed requests drawn as held-out ones.
    #[arg(long, default_value_t = 0.15, requires = "compose")]
    heldout_share: f32,
    /// The share of two-turn conversations whose second turn is a fresh request of another
    /// kind (a search after a calculation) instead of a follow-up of the first.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    fresh_turns: f32,
    /// The chance that a story's event is told in one sentence with the sentence before
    /// it ("Tom had 40 stamps and bought 15 more."); a joined loss is held out.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    joins: f32,
    /// The share of word problems told as a tally, part by part ("Tom sold 8 stamps on
    /// Monday and 6 on Tuesday. How many did he sell in all?").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    combine: f32,
    /// The share of word problems told as equal groups ("Each box holds 6 eggs. How many
    /// eggs are in 8 boxes?").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    groups: f32,
    /// The share of change stories and tallies told of an institution ("A library had 67
    /// magazines. It discarded 5.").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    institutions: f32,
    /// The share of Chinese requests typed with spaces around digits ("计算 5 减去 1").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    spacing: f32,
    /// The share of word problems told as a part and a whole ("A class has 42 students. 19
    /// of them are girls. How many are boys?").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    complements: f32,
    /// The share of program requests that sum a range ("the sum of the numbers from 1 to
    /// 100", its even or odd numbers, its cubes).
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    series: f32,
    /// The share of word problems told as an average over a tally's parts ("… How many
    /// stamps did Tom sell per day on average over the 3 days?").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    averages: f32,
    /// The share of those averages told as a list of numbers, as measures ("Three parcels
    /// weigh 12 kg, 15 kg and 18 kg.") or as what several people have.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    average_frames: f32,
    /// The share of those other frames' averages asked another question of the same story:
    /// the total, or how many more one person has than another.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    average_contrasts: f32,
    /// The share of training social acts told with a phrase from a wider list (eight more
    /// per act and language).
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    social_phrases: f32,
    /// The share of equal groups told by where the things are ("There are 24 books on a
    /// shelf.", "书架上有24本书") rather than by a container.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    group_places: f32,
    /// The share of grouped gains in change stories drawn as few and as small as grouped
    /// losses ("He buys 2 more cans … Each can has 3"), so that size does not tell them apart.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    group_sizes: f32,
    /// The share of a training story's things, containers and verbs of change drawn from a
    /// wider list ("balloons", "hands out", "cartons", 气球, 弄丢了, 筐, …).
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    wide_words: f32,
    /// The share of change stories worked as a running total, one call per event ("133 -
    /// 5 * 7", then "98 - 14"), with no plan written first.
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    running_totals: f32,
    /// The share of running totals whose calls each follow a note copying the event from
    /// the story (its sentence or joined clause).
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    running_notes: f32,
    /// The share of change stories told with one plain event, a gain or a loss ("Tom had
    /// 40 stamps and gave 15 to his sister.").
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    single_events: f32,
    /// The share of change stories told in everyday forms: Chinese verbs without 了
    /// ("卖出71本"), and "How many … remain?".
    #[arg(long, default_value_t = 0.0, requires = "compose")]
    plain_forms: f32,
}

impl DemosArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(file) = &self.gsm8k {
            return write_gsm8k(file, self.heldout_every, &self.out, out);
        }
        // --compose N writes composed requests only.
        let templates = if self.compose.is_some() { 0 } else { 1 };
        let spec = DemoSpec {
            counts: Counts {
                calc: self.calc * templates,
                code: self.code * templates,
                literature: self.literature * templates,
                direct: self.direct * templates,
                expert_demonstrations: 20 * templates,
            },
            seed: self.seed,
            compose: self.compose.map(|requests| miracle_requests::Plan {
                requests,
                held_out_share: self.heldout_share,
                fresh_turns: self.fresh_turns,
                joins: self.joins,
                combine: self.combine,
                groups: self.groups,
                institutions: self.institutions,
                spacing: self.spacing,
                complements: self.complements,
                series: self.series,
                averages: self.averages,
                average_frames: self.average_frames,
                average_contrasts: self.average_contrasts,
                social_phrases: self.social_phrases,
                group_places: self.group_places,
                group_sizes: self.group_sizes,
                wide_words: self.wide_words,
                running_totals: self.running_totals,
                running_notes: self.running_notes,
                single_events: self.single_events,
                plain_forms: self.plain_forms,
            }),
        };
        write_demos(&spec, &self.out, out)
    }
}
