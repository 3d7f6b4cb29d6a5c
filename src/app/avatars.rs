//! People's pictures: downloaded once from `users.avatar_url`, kept on disk under
//! `<data dir>/avatars/` (named by the URL's SHA-256), decoded and shrunk off the UI thread, and
//! handed to egui as textures. Until a picture arrives — or when it cannot be fetched — the
//! avatar shows the person's initials; a failed URL is not asked for again in this run.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use eframe::egui;
use sha2::Digest as _;

/// Pictures are shown at most this big (pixels, before the screen's scale).
const SIZE: u32 = 64;

type Arrival = (String, Option<egui::ColorImage>);

struct State {
    textures: HashMap<String, egui::TextureHandle>,
    /// Asked for (arrived or not), so each URL is fetched once.
    requested: HashSet<String>,
    arrivals: mpsc::Receiver<Arrival>,
}

pub struct Avatars {
    dir: PathBuf,
    runtime: tokio::runtime::Handle,
    http: reqwest::Client,
    ctx: egui::Context,
    sender: mpsc::Sender<Arrival>,
    state: RefCell<State>,
}

impl Avatars {
    pub fn new(
        data_dir: &Path,
        runtime: tokio::runtime::Handle,
        http: reqwest::Client,
        ctx: egui::Context,
    ) -> Self {
        let (sender, arrivals) = mpsc::channel();
        Self {
            dir: data_dir.join("avatars"),
            runtime,
            http,
            ctx,
            sender,
            state: RefCell::new(State {
                textures: HashMap::new(),
                requested: HashSet::new(),
                arrivals,
            }),
        }
    }

    /// The picture at `url` if it is here; otherwise starts fetching it (once) and returns None.
    pub fn picture(&self, url: &str) -> Option<egui::TextureHandle> {
        let mut state = self.state.borrow_mut();
        while let Ok((arrived, image)) = state.arrivals.try_recv() {
            if let Some(image) = image {
                let texture =
                    self.ctx
                        .load_texture(format!("avatar {arrived}"), image, Default::default());
                state.textures.insert(arrived, texture);
            }
        }
        if let Some(texture) = state.textures.get(url) {
            return Some(texture.clone());
        }
        if state.requested.insert(url.to_owned()) {
            let file = self.dir.join(file_name(url));
            let (url, http, sender, ctx) = (
                url.to_owned(),
                self.http.clone(),
                self.sender.clone(),
                self.ctx.clone(),
            );
            self.runtime.spawn(async move {
                let image = fetch(&http, &url, &file)
                    .await
                    .and_then(|bytes| decode(&bytes));
                let _ = sender.send((url, image));
                ctx.request_repaint();
            });
        }
        None
    }
}

fn file_name(url: &str) -> String {
    let digest = sha2::Sha256::digest(url.as_bytes());
    format!("{}.img", hex::encode(&digest[..16]))
}

/// The picture's bytes: from disk when it was fetched before, else from the network (then kept).
async fn fetch(http: &reqwest::Client, url: &str, file: &Path) -> Option<Vec<u8>> {
    if let Ok(bytes) = tokio::fs::read(file).await {
        return Some(bytes);
    }
    let response = http
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?;
    let bytes = response.bytes().await.ok()?.to_vec();
    // Only keep what decodes, so a captive portal's HTML page is not cached as a picture.
    decode(&bytes)?;
    if let Some(dir) = file.parent() {
        let _ = tokio::fs::create_dir_all(dir).await;
    }
    let partial = file.with_extension("part");
    if tokio::fs::write(&partial, &bytes).await.is_ok() {
        let _ = tokio::fs::rename(&partial, file).await;
    }
    Some(bytes)
}

fn decode(bytes: &[u8]) -> Option<egui::ColorImage> {
    let image = image::load_from_memory(bytes).ok()?;
    let small = if image.width() > SIZE || image.height() > SIZE {
        image.thumbnail(SIZE, SIZE)
    } else {
        image
    }
    .into_rgba8();
    let size = [small.width() as usize, small.height() as usize];
    Some(egui::ColorImage::from_rgba_unmultiplied(
        size,
        small.as_raw(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(avatars: &Avatars, url: &str) -> Option<egui::TextureHandle> {
        for _ in 0..200 {
            if let Some(texture) = avatars.picture(url) {
                return Some(texture);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    #[test]
    fn a_picture_on_disk_is_used_and_an_unreachable_one_falls_back_to_initials() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ctx = egui::Context::default();
        let avatars = Avatars::new(
            dir.path(),
            runtime.handle().clone(),
            reqwest::Client::new(),
            ctx,
        );
        // Fetched in an earlier run: the file is there, the network is not asked.
        let cached = "https://avatars.example.invalid/ada.png";
        let png = include_bytes!("../../icons/hicolor/32x32/apps/superset.png");
        std::fs::create_dir_all(dir.path().join("avatars")).unwrap();
        std::fs::write(dir.path().join("avatars").join(file_name(cached)), png).unwrap();
        let texture = wait_for(&avatars, cached).expect("the cached picture");
        assert_eq!(texture.size(), [32, 32]);
        // Nothing listens there: no picture, and it is not asked for again.
        let unreachable = "http://127.0.0.1:9/nobody.png";
        assert!(wait_for(&avatars, unreachable).is_none());
        assert_eq!(avatars.state.borrow().requested.len(), 2);
    }
}
