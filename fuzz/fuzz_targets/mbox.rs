#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    slushpile::import::mbox::split_in_memory(data, 4096);
});
