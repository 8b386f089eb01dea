//! Any bytes: the reader either refuses them or yields a tree that the
//! writer writes so that it reads back as the same tree, and writing that
//! again gives the same text. Limits hold: no panic, no stack overflow.

#![no_main]

use kubefetch::yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = yaml::decode(data) else {
        return;
    };
    let Ok(tree) = yaml::read_first(&text) else {
        return;
    };
    let written = yaml::to_block_yaml(&tree);
    let reread = match yaml::read_first(&written) {
        Ok(reread) => reread,
        Err(e) => panic!("written tree does not read back ({e}):\n{written}"),
    };
    assert_eq!(reread, tree, "round trip changed the tree:\n{written}");
    assert_eq!(yaml::to_block_yaml(&reread), written, "writing is not stable");
});
