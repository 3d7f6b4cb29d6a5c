//! Handing memory the window no longer uses back to the operating system. Replacing a view
//! model of 100,000 tasks frees tens of megabytes, much of it in the allocator arena of the
//! background thread that read it; glibc keeps freed memory for reuse, so without this the
//! window's resident size would stay at its peak for as long as it runs. Other platforms'
//! allocators return memory themselves, and there this does nothing.

/// Returns the allocator's free pages to the system (glibc), off the UI thread.
pub fn return_freed(runtime: &tokio::runtime::Handle) {
    runtime.spawn_blocking(return_freed_now);
}

/// Returns the allocator's free pages to the system now, on this thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_freed_now() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim takes no pointers; it only releases free pages of glibc's heaps.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_now() {}
