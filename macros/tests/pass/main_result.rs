use std::error::Error;

#[stevedore::main(worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let n: u32 = "1".parse()?;
    let h = stevedore::spawn(async move { n + 1 });
    assert_eq!(h.await?, 2);
    Ok(())
}
