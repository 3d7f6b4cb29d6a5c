//! The local time zone, read once: the system's zone can only be read safely while the process
//! has one thread, so `main` calls [`remember_local_offset`] first and the window formats
//! times with [`local_offset`] afterwards.

use std::sync::OnceLock;

use time::UtcOffset;

static LOCAL_OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Reads the local time zone's offset. Call before starting any thread; later it stays UTC.
pub fn remember_local_offset() {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let _ = LOCAL_OFFSET.set(offset);
}

/// The local offset read by [`remember_local_offset`] (UTC if it was not).
pub fn local_offset() -> UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(UtcOffset::UTC)
}
