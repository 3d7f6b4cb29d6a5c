//! Small pieces the panels share: avatars, status dots, badges, and menus that stay open.

use eframe::egui::containers::menu::{MenuButton, MenuConfig};
use eframe::egui::{self, Color32, CornerRadius, FontId, PopupCloseBehavior, Sense, Stroke, vec2};

use crate::app::avatars::Avatars;
use crate::app::theme;
use crate::app::view_model::ViewModel;

/// A round avatar: the person's picture when it has arrived, else their initials on a colour
/// of their own.
pub fn avatar(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    id: &str,
    name: &str,
) -> egui::Response {
    let size = theme::AVATAR_SIZE;
    let (rect, response) = ui.allocate_exact_size(vec2(size, size), Sense::hover());
    let picture = vm
        .people
        .get(id)
        .and_then(|p| p.avatar_url.as_deref())
        .and_then(|url| avatars.picture(url));
    let painter = ui.painter();
    match picture {
        Some(texture) => {
            egui::Image::new(&texture)
                .corner_radius(CornerRadius::same((size / 2.0) as u8))
                .paint_at(ui, rect);
        }
        None => {
            let initials: String = name
                .split_whitespace()
                .filter_map(|word| word.chars().next())
                .take(2)
                .flat_map(char::to_uppercase)
                .collect();
            painter.circle_filled(rect.center(), size / 2.0, theme::person(id));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                initials,
                FontId::proportional(size * 0.45),
                Color32::WHITE,
            );
        }
    }
    labelled(&response, name);
    response.on_hover_text(name)
}

/// Gives a painted piece an AccessKit label, so screen readers (and tests) can find it.
fn labelled(response: &egui::Response, label: &str) {
    response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Image, true, label));
}

/// A filled dot in a status's colour.
pub fn dot(ui: &mut egui::Ui, color: Color32, hover: &str) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
    ui.painter().circle_filled(rect.center(), 5.0, color);
    labelled(&response, hover);
    response.on_hover_text(hover)
}

/// A small rounded label, outlined in `color` (PR badges, "pending", "cloud").
pub fn badge(ui: &mut egui::Ui, text: &str, color: Color32) -> egui::Response {
    let galley = ui
        .painter()
        .layout_no_wrap(text.to_owned(), FontId::proportional(11.5), color);
    let padding = vec2(6.0, 2.0);
    let (rect, response) = ui.allocate_exact_size(galley.size() + padding * 2.0, Sense::hover());
    let painter = ui.painter();
    painter.rect(
        rect,
        CornerRadius::same(8),
        color.gamma_multiply(0.12),
        Stroke::new(1.0, color.gamma_multiply(0.7)),
        egui::StrokeKind::Inside,
    );
    painter.galley(rect.min + padding, galley, color);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Label, true, text));
    response
}

/// Whether `key` was pressed this frame, taking it so that no panel drawn later acts on it too
/// (Enter in a form's field must not also open a task in the tree).
pub fn take_key(ui: &egui::Ui, key: egui::Key) -> bool {
    ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, key))
}

/// A menu button whose menu stays open while it is used — toggles, text fields, pickers inside
/// it — and closes on a click outside, Esc, or `ui.close()` from an entry that leads elsewhere.
pub fn lasting_menu(ui: &mut egui::Ui, label: &str, add: impl FnOnce(&mut egui::Ui)) {
    let config = MenuConfig::new().close_behavior(PopupCloseBehavior::CloseOnClickOutside);
    MenuButton::new(label).config(config).ui(ui, add);
}
