#[stevedore::main]
async fn main() -> Result<(), std::io::Error> {
    42
}
