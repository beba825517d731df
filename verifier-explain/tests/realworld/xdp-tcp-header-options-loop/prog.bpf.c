#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;

	if (eth + 1 > (struct ethhdr *)data_end)
		return XDP_DROP;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *iph = data + sizeof(struct ethhdr);

	if (iph + 1 > (struct iphdr *)data_end)
		return XDP_DROP;

	if (iph->protocol != IPPROTO_TCP)
		return XDP_PASS;

	struct tcphdr *tcph = data + sizeof(struct ethhdr) + (iph->ihl * 4);

	if (tcph + 1 > (struct tcphdr *)data_end)
		return XDP_DROP;

	if (tcph->doff > 5) {
		__u16 off = 0;
		__u8 *opts = data + sizeof(struct ethhdr) + (iph->ihl * 4) + 20;

		if (opts + 1 > (__u8 *)data_end)
			return XDP_PASS;

		__u16 optdata = 0;

		while (optdata <= 40) {
			__u8 *val = opts + optdata;

			if (val + 1 > (__u8 *)data_end || val < (__u8 *)data)
				break;

			if (*val == 0x01) { // <- rejected here
				optdata++;
				continue;
			} else if (*val == 0x00) {
				break;
			} else if (*val == 0x08) {
				off = optdata + 2;
				break;
			} else {
				__u8 *len = val + 1;

				if (len + 1 > (__u8 *)data_end || len < (__u8 *)data)
					break;

				if (len <= (__u8 *)data_end && len >= (__u8 *)data)
					optdata += (*len > 0) ? *len : 1;
				else
					optdata++;
				continue;
			}
			optdata++;
		}

		if (off > 0) {
			if (opts + off + 8 <= (__u8 *)data_end && opts + off + 8 >= (__u8 *)data) {
				bpf_printk("timestamps at %u", off);
			}
		}
	}

	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
