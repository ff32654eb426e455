#[stevedore::test]
async fn with_args(_n: u32) {}

fn main() {}
