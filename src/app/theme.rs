//! Colours, sizes and text styles in one place, for the dark and the light theme.
//!
//! Panels ask this module for what they paint (`accent`, `muted`, status and PR colours, row
//! height) instead of writing colours inline, so the two themes stay consistent.

use eframe::egui::{self, Color32, CornerRadius, Stroke, Visuals};

/// Height of one row of the task tree (tasks and workspaces alike, so the list virtualises).
pub const ROW_HEIGHT: f32 = 28.0;
pub const AVATAR_SIZE: f32 = 20.0;
/// Below this window width the tree shows assignees as avatars only.
pub const NARROW_TREE: f32 = 520.0;
/// Below this width the task filters go into a menu: inline, with "New task" and the task
/// count, they need about 620 points.
pub const INLINE_FILTERS: f32 = 660.0;

/// The repositories panel's and the detail panel's widths (default, least, most) for a window
/// `width` points wide: at 760 px both leave the task tree room for its badges.
pub struct PanelWidths {
    pub side: (f32, f32, f32),
    pub detail: (f32, f32, f32),
}

pub fn panel_widths(width: f32) -> PanelWidths {
    let narrow = width < 1100.0;
    PanelWidths {
        side: (
            if narrow { 170.0 } else { 260.0 },
            140.0,
            (width * 0.22).max(140.0),
        ),
        detail: (
            if narrow { 300.0 } else { 380.0 },
            240.0,
            (width * 0.42).max(240.0),
        ),
    }
}

/// The user's choice, stored in `settings.theme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeChoice {
    System,
    Dark,
    Light,
}

impl ThemeChoice {
    pub fn from_setting(value: &str) -> Self {
        match value {
            "dark" => Self::Dark,
            "light" => Self::Light,
            _ => Self::System,
        }
    }

    pub fn setting(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Dark => "dark",
            Self::Light => "light",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::System => "Follow the system",
            Self::Dark => "Dark",
            Self::Light => "Light",
        }
    }

    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Self::System => egui::ThemePreference::System,
            Self::Dark => egui::ThemePreference::Dark,
            Self::Light => egui::ThemePreference::Light,
        }
    }
}

/// The brand accent: Superset's indigo.
pub fn accent(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(0x8b, 0x93, 0xff)
    } else {
        Color32::from_rgb(0x4f, 0x46, 0xe5)
    }
}

/// Secondary text (device names, ages).
pub fn muted(visuals: &Visuals) -> Color32 {
    visuals.weak_text_color()
}

pub fn success(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(0x4a, 0xde, 0x80)
    } else {
        Color32::from_rgb(0x16, 0xa3, 0x4a)
    }
}

pub fn warning(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(0xfb, 0xbf, 0x24)
    } else {
        Color32::from_rgb(0xb4, 0x53, 0x09)
    }
}

pub fn danger(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(0xf8, 0x71, 0x71)
    } else {
        Color32::from_rgb(0xdc, 0x26, 0x26)
    }
}

/// A pull request's badge colour, as GitHub shows them.
pub fn pull_request(status: &str, dark: bool) -> Color32 {
    match status {
        "open" => success(dark),
        "merged" => Color32::from_rgb(0xa3, 0x71, 0xf7),
        "closed" => danger(dark),
        _ => Color32::GRAY,
    }
}

pub fn priority(priority: &str, dark: bool) -> Color32 {
    match priority {
        "urgent" => danger(dark),
        "high" => warning(dark),
        "medium" => accent(dark),
        _ => Color32::GRAY,
    }
}

/// A status's colour from `status_color`, grey when the task has none.
pub fn status(color: Option<[u8; 3]>) -> Color32 {
    color.map_or(Color32::GRAY, |[r, g, b]| Color32::from_rgb(r, g, b))
}

/// A stable colour per person, for avatars without a picture.
pub fn person(id: &str) -> Color32 {
    const PALETTE: [Color32; 8] = [
        Color32::from_rgb(0x63, 0x66, 0xf1),
        Color32::from_rgb(0x0e, 0xa5, 0xe9),
        Color32::from_rgb(0x10, 0xb9, 0x81),
        Color32::from_rgb(0xf5, 0x9e, 0x0b),
        Color32::from_rgb(0xef, 0x44, 0x44),
        Color32::from_rgb(0xec, 0x48, 0x99),
        Color32::from_rgb(0x8b, 0x5c, 0xf6),
        Color32::from_rgb(0x14, 0xb8, 0xa6),
    ];
    let hash = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[hash as usize % PALETTE.len()]
}

/// Softer corners and a little more room than egui's defaults, in both themes.
pub fn apply(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
        style.spacing.interact_size.y = 26.0;
        let dark = style.visuals.dark_mode;
        style.visuals.selection.bg_fill = accent(dark).gamma_multiply(0.35);
        style.visuals.selection.stroke = Stroke::new(1.0, accent(dark));
        style.visuals.hyperlink_color = accent(dark);
        for widgets in [
            &mut style.visuals.widgets.inactive,
            &mut style.visuals.widgets.hovered,
            &mut style.visuals.widgets.active,
            &mut style.visuals.widgets.open,
        ] {
            widgets.corner_radius = CornerRadius::same(6);
        }
        style.visuals.window_corner_radius = CornerRadius::same(10);
    });
}
