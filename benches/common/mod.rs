//! A tiny timing harness for `cargo bench` on stable (`harness = false`):
//! each case runs in batches for about half a second, five times, and the
//! median time per operation is printed. Figures, not assertions: the
//! machine is shared, so compare runs made one after the other.

use std::time::{Duration, Instant};

/// Times `op` and prints `name: <median> ns/op (min … max)`.
pub fn bench(name: &str, mut op: impl FnMut()) {
    // Calibrate a batch that takes about 100 ms.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            op();
        }
        if t.elapsed() >= Duration::from_millis(100) || batch >= 1 << 30 {
            break;
        }
        batch *= 2;
    }
    let mut per_op: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                op();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per_op.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<48} {:>10.0} ns/op  ({:.0} … {:.0})",
        per_op[2], per_op[0], per_op[4]
    );
}
