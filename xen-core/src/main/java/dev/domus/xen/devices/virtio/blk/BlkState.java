// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

/**
 * What a snapshot needs of a virtio-blk device. Requests complete synchronously, so there is nothing in flight;
 * the image itself is saved (or shared) by the storage layer.
 *
 * @param image     path of the raw image
 * @param readOnly  whether the guest sees a read-only disk
 * @param sectors   capacity in 512-byte sectors
 * @param serial    the ID string returned by GET_ID
 */
public record BlkState(String image, boolean readOnly, long sectors, String serial) {
}
