//! The small capture, which can rewrite the fixture the decoder's unit tests read offline.

use super::decoding::check_capture;
use super::{capture, hex};

/// The small scenario decodes too; with `UPDATE_FIXTURES=1` it also rewrites the fixture the
/// unit tests decode offline (run that after changing the scenario).
#[tokio::test]
async fn a_small_capture_decodes_and_can_refresh_the_fixture() {
    // Big enough to be stored out of line (the threshold is about 2 kB), small enough to keep
    // the fixture readable.
    let (payloads, written) = capture("pgoutput_capture_fixture", 3_000).await;
    check_capture(&payloads, &written);
    if std::env::var_os("UPDATE_FIXTURES").is_none() {
        return;
    }
    let mut text = String::from(
        "# pgoutput protocol v1 payloads, one per line in hex, captured by\n\
         # tests/integration/pgoutput_capture/fixture.rs (a_small_capture_decodes_and_can_refresh_the_fixture) from a real server.\n",
    );
    text.push_str(&format!(
        "# server: PostgreSQL {}\n",
        written.server_version
    ));
    let txids: Vec<String> = written.txids.iter().map(u32::to_string).collect();
    text.push_str(&format!("# txids: {}\n", txids.join(" ")));
    for payload in &payloads {
        text.push_str(&hex(payload));
        text.push('\n');
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pgoutput");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/capture.hex"), text).unwrap();
}
