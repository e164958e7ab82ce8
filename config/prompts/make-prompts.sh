#!/usr/bin/env bash
# Rebuilds the prompts in this folder: headerless G.711 u-law, 8 kHz mono (what the RTP relay
# plays as PCMU; it converts to PCMA itself). Operators replace these files with recordings.
# Needs espeak-ng and sox (Debian packages). Made with espeak-ng 1.51, SoX 14.4.2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
say() { # name text
	espeak-ng -v id -s 150 -w "/tmp/siaga-prompt-$1.wav" "$2"
	sox -R -D "/tmp/siaga-prompt-$1.wav" -r 8000 -c 1 -t ul "$1.ul" norm -3 pad 0 1.0
	rm -f "/tmp/siaga-prompt-$1.wav"
}
say queue "Mohon tunggu. Panggilan Anda akan segera dijawab oleh petugas Siaga satu satu dua."
say greeting "Siaga satu satu dua, Kota Cirebon. Silakan bicara."
say press5 "Jika Anda membutuhkan bantuan tetapi tidak dapat berbicara, tekan lima."
