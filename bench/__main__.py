"""`make bench`: every benchmark, one after the other, on this machine."""

from bench import campaigns, checkout, foundation, notice_dispatch, stats_beacon

foundation.main()
notice_dispatch.main()
campaigns.main()
checkout.main()
stats_beacon.main()
