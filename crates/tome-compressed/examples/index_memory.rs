//! Prints what the restart points of a compressed file cost: `cargo run --release -p
//! tome-compressed --example index_memory FILE` (docs/benchmarks.md).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: index_memory FILE")?;
    let start = std::time::Instant::now();
    let c = tome_compressed::Compressed::open(std::path::Path::new(&path))?;
    let len = c.wait(&tome_compressed::never)?;
    let p = c.progress();
    let gib = len as f64 / (1u64 << 30) as f64;
    println!(
        "{path}: {len} bytes decompressed in {:.2} s, {} restart points, {} bytes of index \
         ({:.2} MiB per GiB of output)",
        start.elapsed().as_secs_f64(),
        p.points,
        p.index_bytes,
        p.index_bytes as f64 / (1 << 20) as f64 / gib
    );
    Ok(())
}
