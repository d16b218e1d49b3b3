fn main() {
    std::process::exit(dynipd::exit::OK);
}
