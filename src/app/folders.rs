//! The system's folder picker for "Link folder…": the desktop portal through rfd, shown on its
//! own thread because it blocks until the user chooses. What a chosen folder is linked to is
//! decided by [`crate::gitlink::linking`], the same code the command line uses.

use std::path::PathBuf;

/// Shows the system's folder picker (the desktop portal). `None` when the user cancelled or no
/// picker can be shown; the window then offers a typed path.
pub fn pick_folder() -> Option<PathBuf> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return None;
    }
    rfd::FileDialog::new()
        .set_title("Link a folder to a repository")
        .pick_folder()
}
