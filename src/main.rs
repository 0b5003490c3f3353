//! The `origintrace` command line: parses arguments, runs one command through the library, writes its
//! output (atomically when to a file), and maps failures to exit codes: 0 done, 1 a flag at or above
//! `--fail-on`, 2 bad usage or bad input.

mod cli;

use std::io::Write;
use std::process::ExitCode;

/// The system allocator, asking for transparent huge pages on every block of 32 MiB or more. This
/// kernel, like most distributions', gives them only where asked (`madvise` mode). The engine reads
/// gigabyte arrays (shipments, outcomes, keys, chains, the lookups) at random. With 4 KiB pages nearly
/// every such read also misses the TLB; with 2 MiB pages a 10M-shipment report ran in 124 s, not 151 s
/// (docs/benchmarks.md). Only large blocks are advised, so the process gains a few hundred mappings at
/// most, far below the kernel's limit. The advice is a hint: where it fails, nothing changes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct HugePages;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl HugePages {
    fn advise(p: *mut u8, size: usize) {
        const MIN: usize = 32 << 20;
        const HUGE: usize = 2 << 20;
        if p.is_null() || size < MIN || !HUGE_PAGES.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize + size) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the allocator just handed out; MADV_HUGEPAGE only
            // changes how its pages are backed, never their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; `advise` only adds a hint on the returned block.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe impl std::alloc::GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        HugePages::advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        HugePages::advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        let q = unsafe { std::alloc::System.realloc(p, layout, size) };
        HugePages::advise(q, size);
        q
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOC: HugePages = HugePages;

/// Whether [`HugePages`] advises: for the commands that go on to read the data at random, not for `check`,
/// `synth` or `import`, which read and write in order, where huge pages only add memory (a 10M-shipment
/// `check` took 1.1 GB and 1-2 s more with them).
static HUGE_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() -> ExitCode {
    // Keep freed memory for the next phase instead of handing it back to the kernel: a run frees and
    // allocates large buffers phase after phase, and by default glibc maps each large one afresh and unmaps it
    // on free, so every reuse costs page faults and zeroing (docs/benchmarks.md). The memory is returned when
    // the process exits.
    // SAFETY: `mallopt` sets process-wide allocator parameters; it is called before any other thread exists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
    origintrace::util::timing::start();
    let cli = match cli::Cli::parse_checked() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let output = cli.output();
    let result = cli::run(cli);
    origintrace::util::timing::phase("free");
    let result = result.and_then(|o| {
        if let Some(bytes) = &o.bytes {
            cli::emit(output.as_deref(), bytes)?;
        }
        Ok(o.failed)
    });
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

fn report_error(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    if let Some(origintrace::data::dataset::DatasetError::Rejected { count, first }) =
        find_rejected(e)
    {
        for r in first {
            let _ = writeln!(err, "{r}");
        }
        if *count > first.len() {
            let _ = writeln!(err, "… and {} more", count - first.len());
        }
    }
    // Messages quote values from the input (a header, a setting): on a terminal they must not act.
    let clean = |t: String| origintrace::util::text::printable(&t).into_owned();
    let _ = writeln!(err, "origintrace: error: {}", clean(e.to_string()));
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {}", clean(cause.to_string()));
    }
}

fn find_rejected(e: &anyhow::Error) -> Option<&origintrace::data::dataset::DatasetError> {
    use origintrace::data::dataset::DatasetError;
    e.chain().find_map(|c| {
        let d = c
            .downcast_ref::<DatasetError>()
            .or_else(
                || match c.downcast_ref::<origintrace::session::SessionError>() {
                    Some(origintrace::session::SessionError::Dataset(d)) => Some(d),
                    _ => None,
                },
            )
            .or_else(
                || match c.downcast_ref::<origintrace::import::ImportError>() {
                    Some(origintrace::import::ImportError::Dataset(d)) => Some(d),
                    _ => None,
                },
            )?;
        matches!(d, DatasetError::Rejected { .. }).then_some(d)
    })
}
