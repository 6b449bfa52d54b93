fn main() -> std::process::ExitCode {
    slushpile::cli::main()
}
