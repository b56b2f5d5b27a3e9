//! The PNG loss curve beside a run's `log.csv`: training loss every step, validation loss at
//! each evaluation, redrawn from the log so a resumed run's picture covers the whole run.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans Mono (Bitstream Vera licence, assets/fonts/LICENSE-DejaVu): text needs a font,
/// and an embedded one draws the same on every machine.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");

/// Points read from `log.csv`: (step, training loss) and (step, validation loss).
#[derive(Debug, Default)]
pub struct Curves {
    pub train: Vec<(f64, f64)>,
    pub val: Vec<(f64, f64)>,
}

/// Reads `step,lr,loss,grad_norm,tokens_per_s,val_loss,val_ppl` rows; rows that do not parse
/// (a line cut by an interruption) are skipped, since the picture must not fail a run.
pub fn read_log(text: &str) -> Curves {
    let mut curves = Curves::default();
    for row in text.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let (Some(step), Some(loss)) = (field(&fields, 0), field(&fields, 2)) else {
            continue;
        };
        curves.train.push((step, loss));
        if let Some(val) = field(&fields, 5) {
            curves.val.push((step, val));
        }
    }
    curves
}

fn field(fields: &[&str], i: usize) -> Option<f64> {
    fields.get(i)?.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Draws `dir/log.csv` into `dir/loss.png` (written to a temporary name, then renamed).
pub fn draw_from_log(dir: &Path) -> anyhow::Result<()> {
    let log = dir.join("log.csv");
    let text =
        std::fs::read_to_string(&log).with_context(|| format!("cannot read {}", log.display()))?;
    let tmp = dir.join("loss.tmp.png");
    draw(&read_log(&text), &tmp)?;
    let png = dir.join("loss.png");
    std::fs::rename(&tmp, &png).with_context(|| format!("cannot write {}", png.display()))
}

fn draw(curves: &Curves, path: &Path) -> anyhow::Result<()> {
    // Registering twice is harmless; plotters keeps the first.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    let root = BitMapBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let last_step = curves.train.last().map_or(1.0, |p| p.0).max(1.0);
    let losses = curves.train.iter().chain(&curves.val).map(|p| p.1);
    let (lo, hi) = losses.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
        (lo.min(l), hi.max(l))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption("Pretraining loss", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..last_step, (lo - pad).max(0.0)..hi + pad)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("cross-entropy (nats/token)")
        .x_label_formatter(&|step| format!("{step:.0}"))
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .draw_series(LineSeries::new(curves.train.iter().copied(), &BLUE))?
        .label("training")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            curves.val.iter().copied(),
            RED.stroke_width(2),
        ))?
        .label("validation")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_becomes_two_curves_and_cut_rows_are_skipped() {
        let log = "step,lr,loss,grad_norm,tokens_per_s,val_loss,val_ppl\n\
                   1,0.001,5.5,1.0,100.0,,\n\
                   2,0.001,5.0,1.0,100.0,5.2,181.3\n\
                   3,0.00";
        let curves = read_log(log);
        assert_eq!(curves.train, vec![(1.0, 5.5), (2.0, 5.0)]);
        assert_eq!(curves.val, vec![(2.0, 5.2)]);
    }

    #[test]
    fn a_png_is_drawn_even_for_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        for log in [
            "step,lr,loss\n",
            "step,lr,loss,g,t,v,p\n1,0.1,3.0,1,1,3.1,22\n",
        ] {
            std::fs::write(dir.path().join("log.csv"), log).unwrap();
            draw_from_log(dir.path()).unwrap();
            let png = std::fs::read(dir.path().join("loss.png")).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert!(!dir.path().join("loss.tmp.png").exists());
        }
    }
}
