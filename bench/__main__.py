"""`make bench`: every benchmark, one after the other, on this machine."""

from bench import checkout, foundation, notice_dispatch

foundation.main()
notice_dispatch.main()
checkout.main()
