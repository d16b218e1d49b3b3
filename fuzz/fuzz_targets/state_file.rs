//! The state-file loader on arbitrary bytes: a state or an error (then quarantined), never a
//! panic; whatever loads saves and loads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = dynipd::state::model::decode(data) {
        let bytes = dynipd::state::model::encode(&state).expect("a loaded state encodes");
        let again = dynipd::state::model::decode(&bytes).expect("an encoded state decodes");
        assert_eq!(again, state, "save/load roundtrip");
    }
});
