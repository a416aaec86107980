fn main() -> std::process::ExitCode {
    leadtrace::cli::main()
}
