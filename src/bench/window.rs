//! Scenario 7: the desktop window with 100,000 tasks in SQLite, measured headless (egui without
//! a GPU: the frame is built and tessellated, not rasterised).
//!
//! - cold start: from creating the window's controller on a synced profile to the first frame
//!   that shows tasks (open SQLite, read the first screen of the active organization on the
//!   blocking pool), and until the whole view model has replaced it;
//! - frame CPU: one frame with 100k tasks loaded (logic + panels + tessellation), mean and p99;
//! - organization switch: the frame in which the other organization's tasks appear (it must be
//!   the very next one) and its CPU time;
//! - memory: how much the process's resident set grew from before the window to after it
//!   loaded (the view model, egui's state and the window's engine; the server runs in this
//!   process, so it is stopped first, and memory freed before the window opened is returned to
//!   the system before the baseline is read).

use std::time::{Duration, Instant};

use eframe::egui;

use super::context::Bench;
use super::desktop::{TASKS, profile, until_live, with_tasks};
use super::report::{Figure, Target, Unit, millis, percentile};
use crate::app::actions::Action;
use crate::app::view_model::Row;
use crate::app::{Controller, Options, theme, ui};

const FRAMES: usize = 300;

pub(crate) async fn frames(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    println!(
        "[window] a profile synced with {TASKS} tasks; the window's controller and panels run headless"
    );
    let database = bench.database("bench_window").await?;
    let result = async {
        let app = with_tasks(bench, &database).await?;
        let email = app.team.users[0].email.clone();
        let dir = bench.lab.data_dir("window_profile");
        let (engine, mut events) = profile(&dir, &app, &email).await?;
        until_live(&mut events, Duration::from_secs(120)).await?;
        engine.stop().await;
        // The API server runs in this process: stopped first, so that what the window's own
        // engine asks of it does not count as the window's memory (the engine stays offline).
        app.stop().await;
        let runtime = tokio::runtime::Handle::current();
        let measured = tokio::task::spawn_blocking(move || measure(dir, runtime)).await??;
        Ok(measured)
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

fn resident_megabytes() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One frame as eframe runs it: logic, panels, actions, tessellation.
fn frame(ctx: &egui::Context, controller: &mut Controller) -> Duration {
    let started = Instant::now();
    controller.logic();
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        ..Default::default()
    };
    let output = ctx.run_ui(input, |ui| {
        for action in ui::window_ui(ui, controller) {
            controller.apply(action);
        }
    });
    let _ = ctx.tessellate(output.shapes, output.pixels_per_point);
    started.elapsed()
}

fn first_task_organization(controller: &Controller) -> Option<String> {
    controller.ui.tree.rows.iter().find_map(|row| match row {
        Row::Task(i) => Some(controller.vm.tasks[*i].organization_id.to_string()),
        _ => None,
    })
}

fn measure(
    dir: std::path::PathBuf,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<Vec<Figure>> {
    // What the sync before this freed must not count: the window returns freed memory to the
    // system once its model is loaded, which would return that too.
    crate::app::memory::return_freed_now();
    let before = resident_megabytes();
    let started = Instant::now();
    let ctx = egui::Context::default();
    theme::apply(&ctx);
    let mut controller = Controller::new(ctx.clone(), Options::new(dir, runtime));
    let loaded = |c: &Controller| c.generation > 0 && !c.ui.tree.rows.is_empty();
    frames_until(&ctx, &mut controller, started, 30, "no tasks shown", loaded)?;
    let cold = started.elapsed();
    println!(
        "  first frame with data after {:.0} ms ({} tasks of the first screen)",
        millis(cold),
        controller.vm.tasks.len()
    );
    let whole_model = |c: &Controller| !c.vm.partial;
    frames_until(
        &ctx,
        &mut controller,
        started,
        60,
        "the whole model did not load",
        whole_model,
    )?;
    let whole = started.elapsed();
    println!(
        "  every task loaded after {:.0} ms ({} tasks)",
        millis(whole),
        controller.vm.tasks.len()
    );
    let mut samples: Vec<Duration> = (0..FRAMES).map(|_| frame(&ctx, &mut controller)).collect();
    samples.sort();
    let resident = resident_megabytes() - before;
    let switches = switch_frames(&ctx, &mut controller)?;
    Ok(figures(cold, whole, &samples, &switches, resident))
}

/// Draws frames until `done` (at most `limit_seconds` after `started`).
fn frames_until(
    ctx: &egui::Context,
    controller: &mut Controller,
    started: Instant,
    limit_seconds: u64,
    failure: &str,
    done: impl Fn(&Controller) -> bool,
) -> anyhow::Result<()> {
    loop {
        frame(ctx, controller);
        if done(controller) {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(limit_seconds),
            "{failure} within {limit_seconds} s"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The frames that follow ten organization switches, sorted; each must show the new
/// organization.
fn switch_frames(
    ctx: &egui::Context,
    controller: &mut Controller,
) -> anyhow::Result<Vec<Duration>> {
    let organizations: Vec<String> = controller
        .vm
        .organizations
        .iter()
        .map(|o| o.id.clone())
        .collect();
    anyhow::ensure!(
        organizations.len() >= 2,
        "the user should be in two organizations"
    );
    let mut switches = Vec::new();
    for round in 0..10 {
        let target = organizations[(round + 1) % organizations.len()].clone();
        controller.apply(Action::SelectOrganization(target.clone()));
        switches.push(frame(ctx, controller));
        anyhow::ensure!(
            first_task_organization(controller).as_ref() == Some(&target),
            "the frame after switching still showed the old organization"
        );
    }
    switches.sort();
    Ok(switches)
}

fn figures(
    cold: Duration,
    whole: Duration,
    samples: &[Duration],
    switches: &[Duration],
    resident: f64,
) -> Vec<Figure> {
    let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
    vec![
        Figure::new(
            "window: cold start to first frame with data (100k tasks, headless)",
            millis(cold),
            Unit::Millis,
            Target::AtMost(300.0),
        )
        .anchor("Replicache: first 100 KB < 150 ms"),
        Figure::new(
            "window: cold start until all 100k tasks are loaded (search covers them all)",
            millis(whole),
            Unit::Millis,
            Target::None,
        ),
        Figure::new(
            "window: frame CPU with 100k tasks, mean",
            millis(mean),
            Unit::Millis,
            Target::AtMost(2.0),
        ),
        Figure::new(
            "window: frame CPU with 100k tasks, p99",
            millis(percentile(samples, 99.0)),
            Unit::Millis,
            Target::AtMost(2.0),
        ),
        Figure::new(
            "window: organization switch, shown in the next frame (its CPU, p50)",
            millis(percentile(switches, 50.0)),
            Unit::Millis,
            Target::AtMost(2.0),
        )
        .anchor("Superset: org switch blanked up to 2 min"),
        Figure::new(
            "window: resident memory added by the window with 100k tasks",
            resident,
            Unit::Megabytes,
            Target::AtMost(60.0),
        ),
    ]
}
