//! The desktop window (eframe, glow renderer): what `superset` opens when run without a
//! subcommand.
//!
//! `logic` (the [`Controller`]) owns the session, the sync engine and the view model; `state`
//! holds the panels' own state and the device settings; `ui` draws panels from the view model
//! and returns [`actions::Action`]s; `view_model` turns SQLite into what is drawn (and the task
//! tree's rows); `folders` shows the folder picker and `device` does this device's git work;
//! `invitation_watch` looks up invitations; `memory` returns
//! what a replaced view model freed to the system;
//! `avatars` fetches and caches pictures; `theme` holds every colour and size; `clock` the
//! local time zone. Per frame: `logic` drains the engine's events, `ui` draws and collects
//! actions, the controller applies them. Nothing is drawn while nothing changes: the engine
//! wakes the window when a table changed, and presence labels ask for a repaint every 30 s.

pub mod actions;
pub mod avatars;
pub mod clock;
pub mod device;
pub mod folders;
pub mod forms;
pub mod invitation_watch;
pub mod logic;
pub mod memory;
pub mod notifications;
pub mod state;
pub mod theme;
pub mod ui;
pub mod view_model;

use std::path::PathBuf;

use eframe::egui;

pub use logic::{Controller, Options};

/// The eframe application: a thin shell around the [`Controller`].
pub struct SupersetApp {
    pub controller: Controller,
}

impl SupersetApp {
    pub fn new(ctx: &egui::Context, options: Options) -> Self {
        theme::apply(ctx);
        Self {
            controller: Controller::new(ctx.clone(), options),
        }
    }
}

impl eframe::App for SupersetApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.controller.logic();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let actions = ui::window_ui(ui, &mut self.controller);
        for action in actions {
            self.controller.apply(action);
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.controller.shutdown();
    }
}

/// The window icon, from `icons/`.
fn icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../icons/hicolor/256x256/apps/superset.png");
    let image = image::load_from_memory(png).ok()?.into_rgba8();
    let (width, height) = image.dimensions();
    Some(egui::IconData {
        rgba: image.into_raw(),
        width,
        height,
    })
}

/// Opens the window and runs until it is closed. `quit_after` closes it after that long (for
/// scripted runs and the smoke test).
pub fn run(
    data_dir: PathBuf,
    runtime: tokio::runtime::Handle,
    quit_after: Option<std::time::Duration>,
) -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Superset")
        .with_app_id("dev.superset.Superset")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([760.0, 480.0]);
    if let Some(icon) = icon() {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "Superset",
        native,
        Box::new(move |cc| {
            if let Some(after) = quit_after {
                let ctx = cc.egui_ctx.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(after);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    ctx.request_repaint();
                });
            }
            Ok(Box::new(SupersetApp::new(
                &cc.egui_ctx,
                Options::new(data_dir, runtime),
            )))
        }),
    )
}
