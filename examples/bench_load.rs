use omg::index::snapshot::{self, Loaded};
use omg::ipc::protocol::SearchRequest;
use omg::store::Store;
fn main() {
    let fp = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let (store, _) = Store::open(std::path::Path::new("/tmp/omgt/data/omg.redb")).unwrap();
    let Loaded::Fresh(index) = snapshot::load(&store, omg::model::BackendKind::Apt, &fp).unwrap()
    else {
        panic!()
    };
    println!("open+load {:?}", t.elapsed());
    for q in ["vim", "python3", "libssl", "zstd", "text editor"] {
        let t = std::time::Instant::now();
        let mut n = 0;
        for _ in 0..20 {
            n = omg::index::rank::search(
                &index,
                &SearchRequest {
                    query: q.into(),
                    limit: 50,
                    installed_only: false,
                },
            )
            .total;
        }
        println!("{q}: {n} in {:?}", t.elapsed() / 20);
    }
}
