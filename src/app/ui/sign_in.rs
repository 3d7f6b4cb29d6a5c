//! The sign-in screen: server address, e-mail and password, and what went wrong in words.

use eframe::egui::{self, RichText};

use crate::app::actions::Action;
use crate::app::state::SignInForm;
use crate::app::theme;

pub fn sign_in_ui(ui: &mut egui::Ui, form: &mut SignInForm, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.18).max(24.0));
        ui.label(
            RichText::new("Superset")
                .size(30.0)
                .strong()
                .color(theme::accent(dark)),
        );
        ui.label("See, live, who on your team works on what.");
        ui.add_space(20.0);
        ui.allocate_ui(egui::vec2(340.0, 0.0), |ui| {
            ui.set_width(340.0);
            let mut submit = false;
            for (label, value, password, hint) in [
                (
                    "Server",
                    &mut form.server,
                    false,
                    "https://superset.example.com",
                ),
                ("E-mail", &mut form.email, false, "you@example.com"),
                ("Password", &mut form.password, true, ""),
            ] {
                let label = ui.label(label);
                let response = ui
                    .add(
                        egui::TextEdit::singleline(value)
                            .password(password)
                            .hint_text(hint)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                submit |= response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.add_space(4.0);
            }
            ui.add_space(8.0);
            let button = ui.add_enabled(
                !form.busy,
                egui::Button::new(RichText::new("Sign in").strong())
                    .min_size(egui::vec2(340.0, 32.0)),
            );
            if (button.clicked() || submit) && !form.busy {
                actions.push(Action::SignIn {
                    server: form.server.clone(),
                    email: form.email.clone(),
                    password: form.password.clone(),
                });
            }
            if form.busy {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Signing in…");
                });
            }
            if let Some(error) = &form.error {
                ui.add_space(6.0);
                ui.label(RichText::new(error).color(theme::danger(dark)));
            }
        });
    });
}
