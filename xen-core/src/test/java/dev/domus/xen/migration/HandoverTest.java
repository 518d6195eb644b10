// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The READY / COMMIT / DONE hand-over over a real loopback connection, including where each side must stop. */
class HandoverTest {
    private static Stream[] pair() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket s = server.accept();
            Stream[] p = {new Stream(c), new Stream(s)};
            p[0].setTimeout(20_000);
            p[1].setTimeout(20_000);
            return p;
        }
    }

    @Test
    void targetResumesOnlyAfterCommitAndSourceEndsOnDone() throws Exception {
        Stream[] p = pair();
        try {
            CompletableFuture<Void> target = CompletableFuture.runAsync(() -> {
                try {
                    Handover.ready(p[1]);
                    Handover.awaitCommit(p[1]);
                    assertThat(Handover.done(p[1])).isTrue();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Handover.awaitReady(p[0]);
            Handover.commit(p[0]);
            assertThat(Handover.awaitDone(p[0])).as("DONE, no refusal").isEmpty();
            target.get();
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    @Test
    void sourceGoneAfterReadyMeansTheTargetNeverSeesCommit() throws Exception {
        Stream[] p = pair();
        try {
            Handover.ready(p[1]);
            Handover.awaitReady(p[0]);
            p[0].close(); // source dies or resumes: no COMMIT
            assertThatThrownBy(() -> Handover.awaitCommit(p[1])).isInstanceOf(IOException.class)
                    .hasMessageContaining("closed by the peer");
        } finally {
            p[1].close();
        }
    }

    @Test
    void targetGoneAfterCommitLeavesTheSourceWaitingForDoneToFail() throws Exception {
        Stream[] p = pair();
        try {
            Handover.ready(p[1]);
            Handover.awaitReady(p[0]);
            Handover.commit(p[0]);
            p[1].close(); // whether it read COMMIT is unknown to the source: in doubt
            assertThatThrownBy(() -> Handover.awaitDone(p[0])).isInstanceOf(IOException.class);
        } finally {
            p[0].close();
        }
    }

    @Test
    void aTargetThatCannotRunTheGuestAnswersCommitWithItsRefusal() throws Exception {
        Stream[] p = pair();
        try {
            Handover.ready(p[1]);
            Handover.awaitReady(p[0]);
            Handover.commit(p[0]);
            Handover.awaitCommit(p[1]);
            p[1].send(Stream.ERROR, "cannot apply the device state: bad queue".getBytes());
            p[1].flush();
            // The source may resume on this: the target said it discards its copy.
            assertThat(Handover.awaitDone(p[0])).contains("cannot apply the device state: bad queue");
            p[1].send(Stream.SYNC_OK, new byte[8]);
            p[1].flush();
            assertThatThrownBy(() -> Handover.awaitDone(p[0])).hasMessageContaining("instead of DONE");
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    @Test
    void spinningForAFrameStillReturnsWhenNoneComesAndThenReadsItWhole() throws Exception {
        Stream[] p = pair();
        try {
            long a = System.nanoTime();
            p[0].awaitReadable(5_000_000L); // nothing sent: gives up after the budget, reads nothing
            assertThat(System.nanoTime() - a).isGreaterThanOrEqualTo(5_000_000L);
            CompletableFuture<Void> late = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(50); // after the spin budget: the receive blocks and still gets the frame
                    p[1].send(Stream.READY, new byte[0]);
                    p[1].flush();
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(p[0].receive(1_000_000L).type()).isEqualTo(Stream.READY);
            late.get();
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    @Test
    void aRefusalOrAnUnexpectedFrameIsNotReady() throws Exception {
        Stream[] p = pair();
        try {
            p[1].send(Stream.ERROR, "no room".getBytes());
            p[1].flush();
            assertThatThrownBy(() -> Handover.awaitReady(p[0])).hasMessageContaining("refused").hasMessageContaining("no room");
            p[1].send(Stream.PAGES, new byte[0]);
            p[1].flush();
            assertThatThrownBy(() -> Handover.awaitReady(p[0])).hasMessageContaining("instead of READY");
            p[0].send(Stream.DONE, new byte[0]);
            p[0].flush();
            assertThatThrownBy(() -> Handover.awaitCommit(p[1])).hasMessageContaining("instead of COMMIT");
        } finally {
            p[0].close();
            p[1].close();
        }
    }
}
