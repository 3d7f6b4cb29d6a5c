//! The window's keyboard shortcuts that are not tied to one panel — `N` new task, `E` edit the
//! selected task's title, `?` this list — and the help overlay that lists them all. Letters act
//! only while no text field has the keyboard.

use eframe::egui::{self, RichText};

use crate::app::actions::{Action, TaskAction};
use crate::app::forms::Draft;
use crate::app::state::UiState;
use crate::app::view_model::ViewModel;

/// Every shortcut, as the overlay lists them.
pub const SHORTCUTS: [(&str, &str); 8] = [
    ("N", "New task"),
    ("E", "Edit the selected task's title"),
    ("Up / Down", "Move between tasks"),
    ("Enter", "Open the selected task"),
    ("Esc", "Close the task, the form or this list"),
    ("Ctrl+K", "Search"),
    ("Ctrl+Enter", "Save the description"),
    ("?", "Show these shortcuts"),
];

/// Carries out `N`, `E` and `?` when no text field has the keyboard.
pub fn shortcuts(
    ctx: &egui::Context,
    vm: &ViewModel,
    state: &mut UiState,
    actions: &mut Vec<Action>,
) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    let (new, edit, help) = ctx.input(|i| {
        let typed = |c: &str| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Text(t) if t == c))
        };
        (
            i.key_pressed(egui::Key::N) && i.modifiers.is_none(),
            i.key_pressed(egui::Key::E) && i.modifiers.is_none(),
            i.key_pressed(egui::Key::Questionmark) || typed("?"),
        )
    });
    if help {
        state.show_help = !state.show_help;
    }
    if new && state.new_task.is_none() {
        actions.push(Action::Task(TaskAction::OpenNewForm));
    }
    let selected = state.selected_task.as_ref().and_then(|id| vm.task(id));
    if let Some(task) = selected.filter(|t| edit && t.owner().is_none()) {
        state.editor.follow(task.id());
        state.editor.title = Some(Draft::of(task.title()));
        state.detail_open = true;
        state.new_task = None;
    }
}

/// The overlay listing the shortcuts (`?` or Esc closes it).
pub fn help_ui(ctx: &egui::Context, state: &mut UiState) {
    if !state.show_help {
        return;
    }
    let modal = egui::Modal::new(egui::Id::unique("shortcuts")).show(ctx, |ui| {
        ui.set_max_width(380.0);
        ui.heading("Keyboard shortcuts");
        ui.add_space(6.0);
        egui::Grid::new("shortcut-list")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                for (keys, what) in SHORTCUTS {
                    ui.label(RichText::new(keys).monospace().strong());
                    ui.label(what);
                    ui.end_row();
                }
            });
        ui.add_space(6.0);
        ui.button("Close").clicked()
    });
    if modal.inner || modal.should_close() {
        state.show_help = false;
    }
}
