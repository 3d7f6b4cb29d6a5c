//! One line of the task tree, laid out so that nothing is cut at any width: the badges that
//! matter (priority, assignee, PR, "saving…") are placed first from the right edge, and what
//! is left takes the rest as one text that ends in "…" when it does not fit (the full text
//! shows on hover).

use eframe::egui::text::LayoutJob;
use eframe::egui::{self, Align, Color32, FontId, Layout, RichText, TextFormat};
use time::OffsetDateTime;

use super::widgets::{avatar, badge, dot};
use crate::app::actions::Action;
use crate::app::avatars::Avatars;
use crate::app::theme;
use crate::app::view_model::{ViewModel, Workspace, presence_text};

/// A job of differently coloured parts, laid out as one line, and its plain text.
struct Line {
    job: LayoutJob,
    plain: String,
}

/// The gap between a line's parts.
const PART_GAP: f32 = 8.0;

impl Line {
    fn new() -> Self {
        let mut job = LayoutJob::default();
        job.wrap.max_rows = 1;
        job.wrap.break_anywhere = true;
        Self {
            job,
            plain: String::new(),
        }
    }

    fn part(mut self, text: &str, color: Color32, font: FontId) -> Self {
        let gap = if self.plain.is_empty() {
            0.0
        } else {
            self.plain.push_str("  ");
            PART_GAP
        };
        self.plain.push_str(text);
        self.job.append(
            text,
            gap,
            TextFormat {
                font_id: font,
                color,
                ..Default::default()
            },
        );
        self
    }

    /// Shows the line in the width left, elided, with its whole text on hover.
    fn show(self, ui: &mut egui::Ui) {
        let label = egui::Label::new(self.job)
            .truncate()
            .selectable(false)
            .show_tooltip_when_elided(false);
        let response = ui.add(label);
        if response.hovered() {
            response.on_hover_text(self.plain);
        }
    }
}

/// Widths of the assignee and priority columns, so they line up from row to row.
const ASSIGNEE_COLUMN: f32 = 150.0;
const PRIORITY_COLUMN: f32 = 56.0;

/// A column of `width` at the right of a row, its content from the left.
fn column(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, theme::ROW_HEIGHT),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            add(ui);
        },
    );
}

pub fn task_row(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    index: usize,
    selected: Option<&str>,
    actions: &mut Vec<Action>,
) {
    let task = &vm.tasks[index];
    let dark = ui.visuals().dark_mode;
    let is_selected = selected == Some(task.id());
    let text = format!("{}  {}", task.key(), task.title());
    // The whole row is the click target; AccessKit sees a selectable item named by its text.
    let row = ui.max_rect();
    let response = ui.interact(
        row,
        egui::Id::unique(("task-row", task.id())),
        egui::Sense::click(),
    );
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::ListItem, true, is_selected, &text)
    });
    let fill = if is_selected {
        Some(ui.visuals().selection.bg_fill)
    } else if response.hovered() {
        Some(ui.visuals().widgets.hovered.weak_bg_fill)
    } else {
        None
    };
    if let Some(fill) = fill {
        ui.painter().rect_filled(row, 6.0, fill);
    }
    if response.clicked() {
        actions.push(Action::SelectTask(Some(task.id().to_owned())));
    }
    let narrow = row.width() < theme::NARROW_TREE;
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
        ui.add_space(4.0);
        let assignee_width = if narrow {
            theme::AVATAR_SIZE
        } else {
            ASSIGNEE_COLUMN
        };
        column(ui, assignee_width, |ui| {
            match (&task.assignee_id, &task.assignee_name) {
                (Some(id), Some(name)) => {
                    avatar(ui, vm, avatars, id, name);
                    if !narrow {
                        ui.add(egui::Label::new(RichText::new(name.as_str()).weak()).truncate());
                    }
                }
                _ if !narrow => {
                    ui.label(RichText::new("unassigned").weak());
                }
                _ => {}
            }
        });
        column(ui, PRIORITY_COLUMN, |ui| {
            if task.priority != "none" {
                let color = theme::priority(&task.priority, dark);
                ui.label(RichText::new(task.priority.as_str()).color(color));
            }
        });
        if task.pending {
            badge(ui, "saving…", theme::warning(dark));
        }
        ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
            ui.add_space(12.0);
            dot(ui, theme::status(task.status_color), &task.status);
            let muted = theme::muted(ui.visuals());
            let strong = ui.visuals().strong_text_color();
            Line::new()
                .part(task.key(), muted, FontId::monospace(13.0))
                .part(task.title(), strong, FontId::proportional(14.0))
                .show(ui);
        });
    });
}

pub fn workspace_row(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    workspace: &Workspace,
    now: OffsetDateTime,
) {
    let dark = ui.visuals().dark_mode;
    let muted = theme::muted(ui.visuals());
    let narrow = ui.max_rect().width() < theme::NARROW_TREE;
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
        ui.add_space(4.0);
        if let Some(pr) = &workspace.pull_request {
            let mut text = format!("#{} {}", pr.number, pr.status);
            if let Some(review) = pr.review.as_ref().filter(|_| !narrow) {
                text.push_str(" · ");
                text.push_str(&review.replace('_', " "));
            }
            badge(ui, &text, theme::pull_request(&pr.status, dark));
        }
        if workspace.pending {
            badge(ui, "saving…", theme::warning(dark));
        }
        if workspace.archived() {
            badge(ui, "done", muted);
        }
        if let Some(git) = workspace.git.as_ref().filter(|_| !narrow) {
            ui.label(RichText::new(git.summary()).color(muted));
        }
        ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
            ui.add_space(40.0);
            avatar(ui, vm, avatars, &workspace.owner_id, &workspace.owner_name);
            workspace_line(ui, workspace, now, dark).show(ui);
        });
    });
}

/// Owner, device, presence and branch as one line.
fn workspace_line(ui: &egui::Ui, workspace: &Workspace, now: OffsetDateTime, dark: bool) -> Line {
    let muted = theme::muted(ui.visuals());
    let text = ui.visuals().text_color();
    let place = if workspace.cloud { "cloud" } else { "local" };
    let presence = presence_text(workspace, now);
    let presence_color = if presence == "active now" {
        theme::success(dark)
    } else {
        muted
    };
    let body = FontId::proportional(14.0);
    let mut line = Line::new()
        .part(&workspace.owner_name, text, body.clone())
        .part(
            &format!("{} · {place}", workspace.device_name),
            muted,
            body.clone(),
        )
        .part(&presence, presence_color, body);
    if let Some(branch) = &workspace.branch {
        line = line.part(branch, muted, FontId::monospace(13.0));
    }
    line
}
