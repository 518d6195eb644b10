// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

import java.util.ArrayList;
import java.util.List;

/** Test double: records every event as a string. */
final class RecordingPowerEvents implements PowerEvents {
    final List<String> events = new ArrayList<>();

    @Override
    public void powerOff(int code) {
        events.add("poweroff " + code);
    }

    @Override
    public void reset() {
        events.add("reset");
    }

    @Override
    public void crash(String reason) {
        events.add("crash " + reason);
    }
}
