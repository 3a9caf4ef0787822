#[tokio::main]
async fn main() {
    std::process::exit(botmem::cli::main().await);
}
