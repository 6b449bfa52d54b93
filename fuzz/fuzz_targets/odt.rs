#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| slushpile::message::fuzzing::document("odt", data));
