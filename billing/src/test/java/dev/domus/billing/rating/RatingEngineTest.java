// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.billing.rating.RatingInput.Adjustment;
import dev.domus.billing.rating.RatingInput.Lifecycle;
import dev.domus.billing.rating.RatingInput.LifecycleKind;
import dev.domus.billing.rating.RatingInput.Quantity;
import dev.domus.billing.rating.RatingInput.QuantityMetric;
import dev.domus.billing.rating.RatingInput.VpsTime;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Currency;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Table tests of the rating rules: every case the issue lists, in EUR (2 decimals) and JPY (0 decimals). */
class RatingEngineTest {
    static final Currency EUR = Currency.getInstance("EUR");
    static final Currency JPY = Currency.getInstance("JPY");
    static final Instant EPOCH = Instant.parse("2020-01-01T00:00:00Z");
    static final Instant MID_DEC = Instant.parse("2026-12-15T00:00:00Z");
    static final BillingPeriod DEC = new BillingPeriod(YearMonth.of(2026, 12));
    static final BillingPeriod NOV = new BillingPeriod(YearMonth.of(2026, 11));
    static final UUID ORG = UUID.fromString("00000000-0000-4000-8000-000000000001");
    static final UUID PROJECT = UUID.fromString("00000000-0000-4000-8000-000000000002");
    static final UUID VPS_A = UUID.fromString("00000000-0000-4000-8000-00000000000a");
    static final UUID VPS_B = UUID.fromString("00000000-0000-4000-8000-00000000000b");

    static final PriceBook PRICES = PriceBook.of(List.of(
            new PlanRate("s-1", EUR, EPOCH, new BigDecimal("0.0060"), new BigDecimal("4.00"), 1000),
            new PlanRate("s-2", EUR, EPOCH, new BigDecimal("0.0180"), new BigDecimal("12.00"), 2000),
            // s-3 gets more expensive from 15 December on.
            new PlanRate("s-3", EUR, EPOCH, new BigDecimal("0.0100"), new BigDecimal("7.00"), 1000),
            new PlanRate("s-3", EUR, MID_DEC, new BigDecimal("0.0120"), new BigDecimal("8.00"), 1000),
            new PlanRate("s-1", JPY, EPOCH, new BigDecimal("1.4"), new BigDecimal("650"), 1000)), List.of(
            new UnitRate(UnitItem.TRANSFER_GB, EUR, EPOCH, new BigDecimal("0.01")),
            new UnitRate(UnitItem.TRANSFER_GB, JPY, EPOCH, new BigDecimal("1.5")),
            new UnitRate(UnitItem.SNAPSHOT_GB_MONTH, EUR, EPOCH, new BigDecimal("0.011")),
            new UnitRate(UnitItem.VOLUME_GB_MONTH, EUR, EPOCH, new BigDecimal("0.044")),
            new UnitRate(UnitItem.SNAPSHOT_GB_MONTH, JPY, EPOCH, new BigDecimal("2"))));
    static final RatingEngine ENGINE = new RatingEngine(PRICES);

    static Instant t(String s) {
        return OffsetDateTime.parse(s).toInstant();
    }

    static VpsTime used(UUID vps, String plan, String from, String to) {
        return new VpsTime(vps, PROJECT, plan, t(from), t(to));
    }

    static Lifecycle life(UUID vps, LifecycleKind kind, String plan, String at) {
        return new Lifecycle(vps, PROJECT, kind, plan, t(at));
    }

    /** One row: usage and lifecycle in, expected "vps plan hours amount" lines (cap lines as "cap amount") out. */
    record Row(String name, Currency cur, BillingPeriod period, String asOf, List<VpsTime> used, List<Lifecycle> life,
            List<String> expected, long total) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> vpsHourTable() {
        return Stream.of(
                new Row("partial hour counts as a started hour", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T10:05:00Z", "2026-12-01T10:20:00Z")), List.of(),
                        List.of("a s-1 1 1"), 1),
                new Row("a stretch across an hour boundary starts two hours", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T10:50:00Z", "2026-12-01T11:10:00Z")), List.of(),
                        List.of("a s-1 2 1"), 1),
                new Row("an hour ending exactly on the boundary is one hour", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")), List.of(),
                        List.of("a s-1 1 1"), 1),
                new Row("several reports in one hour count once", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z"),
                                used(VPS_A, "s-1", "2026-12-01T10:30:00Z", "2026-12-01T10:31:00Z"),
                                used(VPS_A, "s-1", "2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z")), List.of(),
                        List.of("a s-1 1 1"), 1),
                // 100 hours * 0.0060 = 0.60: rounded once per line, not 100 * 0.01.
                new Row("rounding once per line, not per hour", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T00:00:00Z", "2026-12-05T04:00:00Z")), List.of(),
                        List.of("a s-1 100 60"), 60),
                new Row("cap reached mid-month: a whole month of s-1 costs its monthly price", EUR, DEC,
                        "2027-01-01T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-11-20T00:00:00Z")),
                        // 744 h * 0.006 = 4.464 -> 446, capped at 400.
                        List.of("a s-1 744 446", "cap -46"), 400),
                new Row("below the cap no cap line", EUR, DEC, "2026-12-26T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z")),
                        List.of("a s-1 600 360"), 360),
                new Row("stopped VPS is billed until deleted (lifecycle, no usage reports)", EUR, DEC,
                        "2026-12-01T05:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-2", "2026-12-01T00:00:00Z")),
                        List.of("a s-2 5 9"), 9),
                new Row("resize mid-hour: both plans for their time, the hour counts for each", EUR, DEC,
                        "2026-12-31T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T10:00:00Z"),
                                life(VPS_A, LifecycleKind.RESIZED, "s-2", "2026-12-01T12:30:00Z"),
                                life(VPS_A, LifecycleKind.DELETED, "s-2", "2026-12-01T14:15:00Z")),
                        // s-1: 10,11,12 = 0.018 -> 2; s-2: 12,13,14 = 0.054 -> 5.
                        List.of("a s-1 3 2", "a s-2 3 5"), 7),
                new Row("resize with usage reports agrees with lifecycle (no double count)", EUR, DEC,
                        "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                                used(VPS_A, "s-1", "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"),
                                used(VPS_A, "s-1", "2026-12-01T12:00:00Z", "2026-12-01T12:30:00Z"),
                                used(VPS_A, "s-2", "2026-12-01T12:30:00Z", "2026-12-01T13:00:00Z"),
                                used(VPS_A, "s-2", "2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z"),
                                used(VPS_A, "s-2", "2026-12-01T14:00:00Z", "2026-12-01T14:15:00Z")),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T10:00:00Z"),
                                life(VPS_A, LifecycleKind.RESIZED, "s-2", "2026-12-01T12:30:00Z"),
                                life(VPS_A, LifecycleKind.DELETED, "s-2", "2026-12-01T14:15:00Z")),
                        List.of("a s-1 3 2", "a s-2 3 5"), 7),
                new Row("delete: usage reported after the deletion is not billed", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-2", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                                used(VPS_A, "s-2", "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z")),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-2", "2026-12-01T10:00:00Z"),
                                life(VPS_A, LifecycleKind.DELETED, "s-2", "2026-12-01T10:20:00Z")),
                        List.of("a s-2 1 2"), 2),
                new Row("month boundary: November gets its last hour", EUR, NOV, "2026-12-01T02:10:00Z",
                        List.of(used(VPS_A, "s-1", "2026-11-30T23:30:00Z", "2026-12-01T00:30:00Z")),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-11-30T23:30:00Z")),
                        List.of("a s-1 1 1"), 1),
                new Row("month boundary: December starts at 00:00 UTC", EUR, DEC, "2026-12-01T02:10:00Z",
                        List.of(used(VPS_A, "s-1", "2026-11-30T23:30:00Z", "2026-12-01T00:30:00Z")),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-11-30T23:30:00Z")),
                        List.of("a s-1 3 2"), 2),
                new Row("time zones: 08:30+09:00 on 1 December is 30 November UTC", EUR, NOV, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T08:30:00+09:00", "2026-12-01T08:45:00+09:00")),
                        List.of(), List.of("a s-1 1 1"), 1),
                new Row("time zones: nothing of that stretch lands in December", EUR, DEC, "2026-12-31T00:00:00Z",
                        List.of(used(VPS_A, "s-1", "2026-12-01T08:30:00+09:00", "2026-12-01T08:45:00+09:00")),
                        List.of(), List.of(), 0),
                new Row("price change effective mid-month splits the line, cap from the highest rate", EUR, DEC,
                        "2027-01-01T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-3", "2026-12-01T00:00:00Z")),
                        // 336 h * 0.010 = 3.36; 408 h * 0.012 = 4.896 -> 4.90; 8.26 capped at 8.00.
                        List.of("a s-3 336 336", "a s-3 408 490", "cap -26"), 800),
                new Row("JPY has no minor unit: 5 h * 1.4 = 7 yen", JPY, DEC, "2026-12-01T05:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z")),
                        List.of("a s-1 5 7"), 7),
                new Row("JPY: 3 h * 1.4 = 4.2 rounds to 4 yen", JPY, DEC, "2026-12-01T03:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z")),
                        List.of("a s-1 3 4"), 4),
                new Row("JPY cap: a full month is 650 yen", JPY, DEC, "2027-01-01T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z")),
                        // 744 * 1.4 = 1041.6 -> 1042, capped at 650.
                        List.of("a s-1 744 1042", "cap -392"), 650),
                new Row("two VPSs are capped separately", EUR, DEC, "2027-01-01T00:00:00Z", List.of(),
                        List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z"),
                                life(VPS_B, LifecycleKind.CREATED, "s-1", "2026-12-31T22:00:00Z")),
                        List.of("a s-1 744 446", "cap -46", "b s-1 2 1"), 401))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vpsHourTable")
    void vpsHours(Row row) {
        RatedInvoice inv = ENGINE.rate(new RatingInput(ORG, row.cur(), row.period(), t(row.asOf()), row.used(),
                row.life(), List.of(), List.of()));
        List<String> got = new ArrayList<>();
        for (InvoiceLine l : inv.lines()) {
            if (l.kind() == LineKind.VPS_CAP) {
                got.add("cap " + l.amountMinor());
            } else {
                String vps = l.resourceId().orElseThrow().equals(VPS_A) ? "a" : "b";
                got.add(vps + " " + l.plan().orElseThrow() + " " + l.quantity().toPlainString() + " "
                        + l.amountMinor());
            }
        }
        assertThat(got).containsExactlyElementsOf(row.expected());
        assertThat(inv.totalMinor()).isEqualTo(row.total());
        assertThat(inv.usageMinor()).isEqualTo(row.total());
    }

    @Test
    void transferOverPooledAllowanceIsChargedPerGb() {
        // Two s-1 VPSs pool 2 * 1000 GB; 2500.5 GB used -> 500.5 GB * 0.01 = 5.005 -> 5.01 (half up).
        List<Lifecycle> life = List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z"),
                life(VPS_B, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z"));
        List<Quantity> q = List.of(new Quantity(VPS_A, PROJECT, QuantityMetric.TRANSFER_BYTES, 2_000_000_000_000L),
                new Quantity(VPS_B, PROJECT, QuantityMetric.TRANSFER_BYTES, 500_500_000_000L));
        RatedInvoice inv = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-01T01:00:00Z"), List.of(), life, q,
                List.of()));
        InvoiceLine transfer = inv.lines().stream().filter(l -> l.kind() == LineKind.TRANSFER).findFirst()
                .orElseThrow();
        assertThat(transfer.quantity()).isEqualByComparingTo("500.5");
        assertThat(transfer.amountMinor()).isEqualTo(501);
        assertThat(transfer.description()).contains("2500.5 GB").contains("pooled allowance 2000 GB");
        assertThat(inv.totalMinor()).isEqualTo(1 + 1 + 501);
    }

    @Test
    void transferWithinAllowanceIsFreeAndJpyRoundsToWholeYen() {
        List<Lifecycle> life = List.of(life(VPS_A, LifecycleKind.CREATED, "s-1", "2026-12-01T00:00:00Z"));
        RatedInvoice within = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-01T01:00:00Z"), List.of(), life,
                List.of(new Quantity(VPS_A, PROJECT, QuantityMetric.TRANSFER_BYTES, 999_000_000_000L)), List.of()));
        assertThat(within.lines()).filteredOn(l -> l.kind() == LineKind.TRANSFER).singleElement()
                .satisfies(l -> assertThat(l.amountMinor()).isZero());
        // 1000 GB + 3 GB over at 1.5 JPY = 4.5 -> 5 yen.
        RatedInvoice jpy = ENGINE.rate(new RatingInput(ORG, JPY, DEC, t("2026-12-01T01:00:00Z"), List.of(), life,
                List.of(new Quantity(VPS_A, PROJECT, QuantityMetric.TRANSFER_BYTES, 1_003_000_000_000L)), List.of()));
        assertThat(jpy.lines()).filteredOn(l -> l.kind() == LineKind.TRANSFER).singleElement()
                .satisfies(l -> assertThat(l.amountMinor()).isEqualTo(5));
        // No VPS at all: no allowance, every byte is over.
        RatedInvoice none = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-01T01:00:00Z"), List.of(),
                List.of(), List.of(new Quantity(VPS_A, PROJECT, QuantityMetric.TRANSFER_BYTES, 1_000_000_000L)),
                List.of()));
        assertThat(none.totalMinor()).isEqualTo(1);
    }

    @Test
    void snapshotsAndVolumesArePricedPerGbMonth() {
        UUID snap = UUID.randomUUID();
        UUID vol = UUID.randomUUID();
        // 100 GB for 730 h = 100 GB-months * 0.011 = 1.10; 1000 GB-hours volume = 1000 * 0.044 / 730 = 0.0603 -> 6.
        List<Quantity> q = List.of(new Quantity(snap, PROJECT, QuantityMetric.SNAPSHOT_GB_HOURS, 73_000),
                new Quantity(vol, PROJECT, QuantityMetric.VOLUME_GB_HOURS, 600),
                new Quantity(vol, PROJECT, QuantityMetric.VOLUME_GB_HOURS, 400));
        RatedInvoice inv = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-31T00:00:00Z"), List.of(),
                List.of(), q, List.of()));
        assertThat(inv.lines()).extracting(InvoiceLine::kind, InvoiceLine::amountMinor)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(LineKind.SNAPSHOT, 110L),
                        org.assertj.core.groups.Tuple.tuple(LineKind.VOLUME, 6L));
        assertThat(inv.lines().get(0).quantity()).isEqualByComparingTo("100");
        // JPY: 73000 GB-hours * 2 / 730 = 200 yen.
        RatedInvoice jpy = ENGINE.rate(new RatingInput(ORG, JPY, DEC, t("2026-12-31T00:00:00Z"), List.of(),
                List.of(), q.subList(0, 1), List.of()));
        assertThat(jpy.totalMinor()).isEqualTo(200);
    }

    @Test
    void adjustmentsAreSeparateLinesAndMustMatchTheCurrency() {
        UUID credit = UUID.randomUUID();
        UUID promo = UUID.randomUUID();
        List<Lifecycle> life = List.of(life(VPS_A, LifecycleKind.CREATED, "s-2", "2026-12-01T00:00:00Z"));
        RatedInvoice inv = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-01T10:00:00Z"), List.of(), life,
                List.of(), List.of(new Adjustment(credit, LineKind.CREDIT, "goodwill", EUR, -50),
                        new Adjustment(promo, LineKind.PROMO, "WELCOME", EUR, -100))));
        assertThat(inv.usageMinor()).isEqualTo(18);
        assertThat(inv.adjustmentsMinor()).isEqualTo(-150);
        assertThat(inv.totalMinor()).isEqualTo(-132);
        assertThat(inv.lines()).extracting(InvoiceLine::lineNo).containsExactly(1, 2, 3);
        assertThat(inv.lines().get(1).kind()).isEqualTo(LineKind.CREDIT);
        assertThat(inv.lines().get(1).unitPrice()).isEqualByComparingTo("-0.50");
        assertThatThrownBy(() -> ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-01T10:00:00Z"), List.of(),
                life, List.of(), List.of(new Adjustment(credit, LineKind.CREDIT, "x", JPY, -5)))))
                .isInstanceOf(RatingException.class).hasMessageContaining("is in JPY, invoice is in EUR");
        assertThatThrownBy(() -> new Adjustment(credit, LineKind.VPS_HOURS, "x", EUR, 1))
                .hasMessageContaining("adjustment kind must be");
    }

    @Test
    void missingPriceIsAClearError() {
        assertThatThrownBy(() -> ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-31T00:00:00Z"),
                List.of(used(VPS_A, "s-9", "2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z")), List.of(), List.of(),
                List.of()))).isInstanceOf(RatingException.class)
                .hasMessage("no price for plan s-9 in EUR at 2026-12-01T10:00:00Z");
        assertThatThrownBy(() -> BillingPeriod.parse("2026-13")).hasMessage("period must be YYYY-MM, got 2026-13");
    }

    @Test
    void rerunningTheSameInputInAnyOrderGivesTheSameInvoice() {
        List<VpsTime> used = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 2000; i++) {
            Instant s = DEC.start().plusSeconds(rnd.nextInt(DEC.hours() * 3600 - 600));
            used.add(new VpsTime(i % 2 == 0 ? VPS_A : VPS_B, PROJECT, i % 3 == 0 ? "s-2" : "s-1", s,
                    s.plusSeconds(60 + rnd.nextInt(540))));
        }
        List<Quantity> q = List.of(new Quantity(VPS_A, PROJECT, QuantityMetric.TRANSFER_BYTES, 5_123_456_789_012L));
        RatedInvoice first = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-20T00:00:00Z"), used, List.of(),
                q, List.of()));
        Collections.shuffle(used, rnd);
        RatedInvoice second = ENGINE.rate(new RatingInput(ORG, EUR, DEC, t("2026-12-20T00:00:00Z"), used, List.of(),
                q, List.of()));
        assertThat(second).isEqualTo(first);
        assertThat(first.totalMinor()).isPositive();
    }
}
